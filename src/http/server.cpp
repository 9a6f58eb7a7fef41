#include "tether/http/server.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "tether/http/parse_errors.hpp"
#include "tether/http/read_header.hpp"
#include "tether/net/log.hpp"

namespace tether::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {
std::atomic<std::uint64_t> g_next_connection{1};
}

struct Server::State {
  State(asio::any_io_executor ex, Handler h, ServerOptions o)
      : executor(ex), handler(std::move(h)), options(std::move(o)), acceptor(ex),
        log(net::logger(options.name)) {}

  asio::any_io_executor executor;
  Handler handler;
  ServerOptions options;
  tcp::acceptor acceptor;
  std::shared_ptr<spdlog::logger> log;
  std::atomic<bool> stopping{false};
  // Open connections, so that stop() can close them. Touched only on `executor`.
  std::unordered_map<std::uint64_t, std::weak_ptr<beast::tcp_stream>> connections;
};

namespace {

Response error_response(int status, unsigned version) {
  Response res{static_cast<bhttp::status>(status), version};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::to_string(status) + " " + short_reason(status) + "\n";
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

// Writes `res` (header only for HEAD). Returns false when the write failed.
asio::awaitable<bool> write_response(beast::tcp_stream& stream, Response& res, bool head) {
  if (head) {
    bhttp::response_serializer<bhttp::string_body> sr{res};
    auto [ec, n] = co_await bhttp::async_write_header(stream, sr, use_nothrow);
    co_return !ec;
  }
  auto [ec, n] = co_await bhttp::async_write(stream, res, use_nothrow);
  co_return !ec;
}

// Serves one connection until it closes, errs, idles out or the server stops.
asio::awaitable<void> serve_connection(std::shared_ptr<Server::State> state,
                                       std::shared_ptr<beast::tcp_stream> stream,
                                       ConnectionInfo info) {
  const auto& opt = state->options;
  beast::flat_buffer buffer(opt.max_header_bytes + 16 * 1024);
  for (;;) {
    if (state->stopping) break;
    // Between requests: wait for the first byte under the idle timeout.
    if (info.requests > 0 && buffer.size() == 0) {
      stream->expires_after(opt.idle_timeout);
      auto [ec, n] = co_await stream->async_read_some(buffer.prepare(4096), use_nothrow);
      if (ec) break;
      buffer.commit(n);
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opt.max_header_bytes));
    parser.body_limit(opt.max_body_bytes);
    auto ec = co_await read_header_within(*stream, buffer, parser, opt.header_timeout);
    std::size_t n = 0;
    if (!ec) {
      auto& req = parser.get();
      if (bhttp::token_list(req[bhttp::field::expect]).exists("100-continue") &&
          !parser.is_done()) {
        static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(*stream, asio::buffer(kContinue, sizeof(kContinue) - 1),
                                   use_nothrow);
      }
      stream->expires_after(opt.body_timeout);
      std::tie(ec, n) = co_await bhttp::async_read(*stream, buffer, parser, use_nothrow);
    }
    if (ec) {
      int status = status_for_read_error(ec, buffer.size() > 0 || parser.got_some());
      if (status != 0) {
        state->log->info("conn={} bad request from {}: {} -> {}", info.id,
                         info.remote.address().to_string(), ec.message(), status);
        auto res = error_response(status, 11);
        stream->expires_after(opt.header_timeout);
        co_await write_response(*stream, res, false);
      }
      break;
    }
    ++info.requests;
    Request req = parser.release();
    Response res{bhttp::status::ok, req.version()};
    bool head = req.method() == bhttp::verb::head;
    TakeOver ex_take_over;
    try {
      Exchange ex{req, res, info};
      co_await state->handler(ex);
      ex_take_over = std::move(ex.take_over);
    } catch (const std::exception& e) {
      state->log->error("conn={} handler for {} {} threw: {}", info.id,
                        std::string(req.method_string()), std::string(req.target()), e.what());
      res = error_response(500, req.version());
    }
    if (ex_take_over) {
      stream->expires_never();
      co_await ex_take_over(*stream, std::move(req));
      break;
    }
    bool keep = req.keep_alive() && res.keep_alive() && !state->stopping;
    res.version(req.version());
    res.keep_alive(keep);
    res.prepare_payload();
    stream->expires_after(opt.body_timeout);
    if (!co_await write_response(*stream, res, head)) break;
    if (!keep) break;
  }
  beast::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream->close();
  state->connections.erase(info.id);
}

asio::awaitable<void> accept_loop(std::shared_ptr<Server::State> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(use_nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) co_return;
      state->log->warn("accept failed: {}", ec.message());
      continue;
    }
    ConnectionInfo info;
    info.id = g_next_connection++;
    boost::system::error_code ignored;
    info.remote = socket.remote_endpoint(ignored);
    info.local = socket.local_endpoint(ignored);
    socket.set_option(tcp::no_delay(true), ignored);
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    state->connections.emplace(info.id, stream);
    asio::co_spawn(state->executor, serve_connection(state, stream, info), asio::detached);
  }
}

}  // namespace

Server::Server(asio::any_io_executor executor, Handler handler, ServerOptions options)
    : state_(std::make_shared<State>(executor, std::move(handler), std::move(options))) {}

Server::~Server() { stop(); }

std::uint16_t Server::listen(const std::string& address, std::uint16_t port) {
  tcp::endpoint ep{asio::ip::make_address(address), port};
  state_->acceptor.open(ep.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(ep);
  state_->acceptor.listen(asio::socket_base::max_listen_connections);
  auto bound = state_->acceptor.local_endpoint().port();
  asio::co_spawn(state_->executor, accept_loop(state_), asio::detached);
  return bound;
}

void Server::stop() {
  if (state_->stopping.exchange(true)) return;
  asio::post(state_->executor, [state = state_] {
    boost::system::error_code ignored;
    state->acceptor.close(ignored);
    for (auto& [id, weak] : state->connections)
      if (auto s = weak.lock()) s->socket().close(ignored);
  });
}

}  // namespace tether::http
