// ws_idle: opens N WebSocket connections to HOST:PORT (normally a proxy in
// front of a WebSocket server), keeps them idle, and holds them until stdin
// reaches EOF or SIGTERM/SIGINT arrives. bench/front/run.sh uses it to measure
// the memory a proxy spends per idle tunnel.
//
//   ws_idle HOST PORT N [--path /ws] [--parallel 64] [--timeout 60]
//
// Output on stdout, one line each:
//   ready <opened>           every handshake finished (<opened> got a 101)
//   failed <k> <first error> (only if some did not; exit status 1 at the end)
//   open <n> closed <k>      in answer to a "count" line on stdin
// A connection is "open" until its peer closes it; frames the server sends
// (tether serve's /ws says "hello <id>") are read and dropped, so the proxy
// never holds bytes for us. Only HOST is contacted; no payload is ever sent
// after the upgrade request.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

struct Options {
  std::string host;
  std::string port;
  std::size_t count = 0;
  std::string path = "/ws";
  std::size_t parallel = 64;  // handshakes in flight at once (stays under listen backlogs)
  int timeout_s = 60;         // for all handshakes together
};

// State shared by every coroutine; lives in main() for the whole run.
struct Run {
  explicit Run(asio::io_context& c) : ctx(c) {}
  asio::io_context& ctx;
  Options opt;
  tcp::endpoint endpoint;
  std::deque<tcp::socket> sockets;  // stable addresses; index = connection number
  std::size_t next = 0;             // next connection to open
  std::size_t workers_left = 0;
  std::size_t opened = 0;
  std::size_t failed = 0;
  std::size_t closed = 0;  // opened, then closed by the peer
  std::string first_error;
  bool stopping = false;
  asio::steady_timer* deadline = nullptr;  // bounds the handshake phase
  char drain[4096];  // shared scratch: frames are dropped, never kept
};

std::string websocket_key(std::mt19937_64& rng) {
  static constexpr char b64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned char raw[16];
  for (auto& b : raw) b = static_cast<unsigned char>(rng());
  std::string out;
  for (int i = 0; i < 15; i += 3) {  // 5 full groups = 15 bytes
    unsigned v = (raw[i] << 16) | (raw[i + 1] << 8) | raw[i + 2];
    out += b64[(v >> 18) & 63];
    out += b64[(v >> 12) & 63];
    out += b64[(v >> 6) & 63];
    out += b64[v & 63];
  }
  unsigned v = raw[15] << 16;  // last byte + "=="
  out += b64[(v >> 18) & 63];
  out += b64[(v >> 12) & 63];
  out += "==";
  return out;
}

void note_failure(Run& run, const std::string& what) {
  ++run.failed;
  if (run.first_error.empty()) run.first_error = what;
}

// Reads and drops whatever the server sends on an open connection, until the
// peer closes it or we stop. Holds no buffer of its own.
asio::awaitable<void> hold(Run* run, tcp::socket* s) {
  for (;;) {
    auto [ec] = co_await s->async_wait(tcp::socket::wait_read, use_nothrow);
    if (ec || run->stopping) co_return;
    boost::system::error_code rec;
    s->read_some(asio::buffer(run->drain), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) continue;
    if (rec) {
      ++run->closed;
      boost::system::error_code ignored;
      s->close(ignored);
      co_return;
    }
  }
}

// Opens connections one after another until all N are taken by some worker.
// Each: connect, send the upgrade request, read the response header, expect 101.
asio::awaitable<void> opener(Run* run, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  while (run->next < run->opt.count && !run->stopping) {
    tcp::socket& s = run->sockets[run->next++];
    auto [cec] = co_await s.async_connect(run->endpoint, use_nothrow);
    if (cec) {
      note_failure(*run, "connect: " + cec.message());
      continue;
    }
    boost::system::error_code ignored;
    s.set_option(tcp::no_delay(true), ignored);
    std::string req = "GET " + run->opt.path + " HTTP/1.1\r\nHost: " + run->opt.host + ":" +
                      run->opt.port +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: " +
                      websocket_key(rng) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(req), use_nothrow);
    if (wec) {
      note_failure(*run, "write: " + wec.message());
      continue;
    }
    asio::streambuf head(64 * 1024);
    auto [rec, rn] = co_await asio::async_read_until(s, head, "\r\n\r\n", use_nothrow);
    if (rec) {
      note_failure(*run, "read 101: " + rec.message());
      boost::system::error_code ignored;
      s.close(ignored);
      continue;
    }
    std::string_view status(static_cast<const char*>(head.data().data()),
                            std::min<std::size_t>(head.size(), 12));
    if (status != "HTTP/1.1 101") {
      std::string line(static_cast<const char*>(head.data().data()), std::min<std::size_t>(rn, 60));
      if (auto eol = line.find('\r'); eol != std::string::npos) line.resize(eol);
      note_failure(*run, "not upgraded: " + line);
      boost::system::error_code ignored;
      s.close(ignored);
      continue;
    }
    ++run->opened;
    s.non_blocking(true);
    asio::co_spawn(run->ctx, hold(run, &s), asio::detached);
  }
  if (--run->workers_left == 0) {
    run->deadline->cancel();
    std::printf("ready %zu\n", run->opened);
    if (run->failed) std::printf("failed %zu %s\n", run->failed, run->first_error.c_str());
    std::fflush(stdout);
  }
}

void stop_all(Run& run) {
  run.stopping = true;
  run.deadline->cancel();
  boost::system::error_code ignored;
  for (auto& s : run.sockets) s.close(ignored);
}

// Answers "count" lines on stdin; stops everything at EOF.
asio::awaitable<void> control(Run* run, asio::signal_set* signals) {
  asio::posix::stream_descriptor in(run->ctx, ::dup(0));
  asio::streambuf line_buf;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(in, line_buf, '\n', use_nothrow);
    if (ec) break;
    std::string line(static_cast<const char*>(line_buf.data().data()), n);
    line_buf.consume(n);
    if (line.rfind("count", 0) == 0) {
      std::printf("open %zu closed %zu\n", run->opened - run->closed, run->closed);
      std::fflush(stdout);
    }
  }
  stop_all(*run);
  signals->cancel();
}

// Bounds the handshake phase: connections still opening at the deadline fail.
asio::awaitable<void> watch_deadline(Run* run) {
  auto [ec] = co_await run->deadline->async_wait(use_nothrow);
  if (ec || run->workers_left == 0) co_return;
  std::fprintf(stderr, "ws_idle: handshakes not done after %d s\n", run->opt.timeout_s);
  stop_all(*run);
}

int usage() {
  std::fprintf(stderr,
               "usage: ws_idle HOST PORT N [--path /ws] [--parallel 64] [--timeout 60]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return usage();
  asio::io_context ctx{1};
  Run run(ctx);
  run.opt.host = argv[1];
  run.opt.port = argv[2];
  run.opt.count = std::strtoull(argv[3], nullptr, 10);
  for (int i = 4; i + 1 < argc; i += 2) {
    std::string_view k = argv[i];
    if (k == "--path") run.opt.path = argv[i + 1];
    else if (k == "--parallel") run.opt.parallel = std::strtoull(argv[i + 1], nullptr, 10);
    else if (k == "--timeout") run.opt.timeout_s = std::atoi(argv[i + 1]);
    else return usage();
  }
  if (run.opt.count == 0 || run.opt.parallel == 0 || run.opt.timeout_s <= 0) return usage();

  tcp::resolver resolver(ctx);
  boost::system::error_code ec;
  auto results = resolver.resolve(run.opt.host, run.opt.port, ec);
  if (ec || results.empty()) {
    std::fprintf(stderr, "ws_idle: cannot resolve %s:%s: %s\n", run.opt.host.c_str(),
                 run.opt.port.c_str(), ec.message().c_str());
    return 2;
  }
  run.endpoint = results.begin()->endpoint();
  asio::steady_timer deadline(ctx, std::chrono::seconds(run.opt.timeout_s));
  run.deadline = &deadline;
  for (std::size_t i = 0; i < run.opt.count; ++i) run.sockets.emplace_back(ctx);

  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait([&run](const boost::system::error_code& e, int) {
    if (!e) {
      stop_all(run);
      run.ctx.stop();
    }
  });
  std::random_device rd;
  run.workers_left = std::min(run.opt.parallel, run.opt.count);
  for (std::size_t i = 0, n = run.workers_left; i < n; ++i)
    asio::co_spawn(ctx, opener(&run, (std::uint64_t{rd()} << 32) ^ i), asio::detached);
  asio::co_spawn(ctx, watch_deadline(&run), asio::detached);
  asio::co_spawn(ctx, control(&run, &signals), asio::detached);
  ctx.run();
  return run.failed ? 1 : 0;
}
