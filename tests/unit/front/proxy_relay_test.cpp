// Tier 2: the proxy path's exchange and tunnel over Beast's in-memory
// test::stream with a fail_count, looped until the run completes without
// reaching the count: every I/O step (client and instance side) fails once,
// and each failure must end in a mapped error status or a close, never a
// crash or a hang; the last run goes through end to end.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/_experimental/test/fail_count.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <gtest/gtest.h>

#include "front/proxy/relay.hpp"
#include "front/proxy/tunnel.hpp"
#include "front/worker.hpp"

namespace tether::front::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using TestStream = beast::test::stream;

static_assert(!kOnSocket<TestStream> && !kWaitable<TestStream>);  // no deadlines, no socket

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";

// The relay's upstream side over in-memory streams: every acquire is a new
// connection whose instance answers `response` and then closes.
struct TestUpstreams {
  struct Connection {
    explicit Connection(TestStream s) : stream(std::move(s)) {}
    TestStream stream;
    beast::flat_buffer buffer;
  };
  asio::io_context& ctx;
  beast::test::fail_count& fc;
  std::string response;
  std::vector<std::unique_ptr<TestStream>> remotes;  // the instances' ends
  int acquired = 0;
  int released = 0;
  // Optional: the first leases are "pooled" connections the instance had
  // closed (they answer nothing); the fresh_only flag of every acquire.
  int closed_pooled = 0;
  std::vector<bool> fresh_only;

  asio::awaitable<BasicLease<Connection>> acquire(Instance&, bool fresh, std::int64_t) {
    fresh_only.push_back(fresh);
    BasicLease<Connection> lease;
    lease.conn = std::make_unique<Connection>(TestStream(ctx, fc));
    auto remote = std::make_unique<TestStream>(ctx);
    lease.conn->stream.connect(*remote);
    lease.reused = !fresh && closed_pooled > 0;
    if (lease.reused)
      --closed_pooled;
    else
      lease.conn->stream.append(response);
    lease.conn->stream.close_remote();  // after the response, EOF
    remotes.push_back(std::move(remote));
    ++acquired;
    co_return lease;
  }
  void release(Instance&, std::unique_ptr<Connection>, bool) { ++released; }

  // What the instances received.
  std::string received() const {
    std::string all;
    for (const auto& r : remotes) all += std::string(r->str());
    return all;
  }
};

// One front door worker with one instance, no queueing, no access log.
struct Front {
  explicit Front(FrontConfig cfg = {}) : shared(tune(std::move(cfg)), table()), worker(shared, 0) {}
  static FrontConfig tune(FrontConfig cfg) {
    cfg.access_log = false;
    cfg.timeouts.queue = std::chrono::milliseconds(0);
    return cfg;
  }
  static std::shared_ptr<InstanceTable> table() {
    auto t = std::make_shared<InstanceTable>(TokenMode::instance_id);
    t->add("a", "127.0.0.1:1");
    return t;
  }
  FrontServer::Shared shared;
  FrontServer::Worker worker;
};

struct Result {
  bool done = false;
  After after = After::close;
  std::optional<TunnelHandoff<TestStream>> tunnel;
};

// Reads the request header from `head` as serve_client does, then runs one
// exchange with the body (if any) readable from `client`.
asio::awaitable<void> exchange(FrontServer::Worker& w, TestUpstreams& ups, TestStream& client,
                               std::string head, Result& out) {
  beast::flat_buffer cbuf;
  RequestParser rp;
  if (auto limit = w.shared.config.limits.max_body_bytes)
    rp.body_limit(limit);
  else
    rp.body_limit(boost::none);
  beast::error_code ec;
  rp.put(asio::buffer(head), ec);
  EXPECT_TRUE(rp.is_header_done()) << ec.message();
  const http::RequestReading reading =
      http::read_request(rp.get(), rp.chunked(), rp.content_length());
  ClientSide cs;
  cs.ip = "10.0.0.7";
  cs.port = "5555";
  cs.local = "10.0.0.1:80";
  auto r = co_await relay_exchange(w, ups, client, cbuf, rp, reading, cs);
  out.after = r.after;
  if (r.tunnel) out.tunnel.emplace(std::move(*r.tunnel));
  out.done = true;
}

// The code of the last status line the client received (after a
// 100 Continue, the final one); 0 when nothing.
int status_of(std::string_view received) {
  const auto at = received.rfind("HTTP/1.");
  if (at == std::string_view::npos || received.size() < at + 12) return 0;
  return std::stoi(std::string(received.substr(at + 9, 3)));
}

struct ExchangeRun {
  bool completed = false;  // neither a crash nor a hang
  After after = After::close;
  std::string to_client;
  std::string to_instance;
  std::vector<bool> fresh_only;   // per acquire
  bool handoff = false;           // a tunnel was handed over
  std::string handoff_to_client;  // ... with these bytes to send first
  std::string handoff_instance;   // ... counted on this instance
};

ExchangeRun run_exchange(std::size_t n, const std::string& head, const std::string& body,
                         const std::string& response, FrontConfig cfg = {}, int closed_pooled = 0) {
  Front front{std::move(cfg)};
  auto& ctx = front.worker.ctx;
  beast::test::fail_count fc(n);
  TestUpstreams ups{ctx, fc, response, {}, 0, 0, closed_pooled, {}};
  TestStream client(ctx, fc);
  TestStream peer(ctx);
  client.connect(peer);
  client.append(body);
  client.close_remote();
  Result result;
  asio::co_spawn(ctx, exchange(front.worker, ups, client, head, result), asio::detached);
  ctx.run_for(std::chrono::seconds(5));
  ExchangeRun run;
  run.completed = result.done;
  run.after = result.after;
  run.to_client = std::string(peer.str());
  run.to_instance = ups.received();
  run.fresh_only = ups.fresh_only;
  if (result.tunnel) {  // its stream dies with `front`'s io_context
    run.handoff = true;
    run.handoff_to_client = result.tunnel->to_client;
    if (result.tunnel->instance) run.handoff_instance = result.tunnel->instance->id;
  }
  return run;
}

// A failed step: an error status from the one mapping before the response
// started, else a close (the client may hold a truncated `success`).
void expect_mapped_failure_or_close(const ExchangeRun& run, std::size_t n, int success) {
  ASSERT_TRUE(run.completed) << "hung at n=" << n;
  EXPECT_NE(run.after, After::keep_alive) << "n=" << n;
  const int status = status_of(run.to_client);
  EXPECT_TRUE(status == 0 || status == 100 || status == success ||
              status == status_for(ProxyFailure::bad_request_body) ||
              status == status_for(ProxyFailure::upstream_broken) ||
              status == status_for(ProxyFailure::no_instance) ||
              status == status_for(ProxyFailure::upstream_timeout))
      << "n=" << n << " got: " << run.to_client;
}

TEST(ProxyRelayFailCount, GetExchangeFailsAtEveryStepThenSucceeds) {
  const std::string head = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  std::size_t n = 0;
  for (; n < 200; ++n) {
    ExchangeRun run = run_exchange(n, head, "", response);
    // Success once no step failed: the whole response, keep-alive.
    if (run.completed && run.after == After::keep_alive && run.to_client.ends_with("hello")) {
      EXPECT_EQ(status_of(run.to_client), 200) << run.to_client;
      EXPECT_NE(run.to_client.find("Set-Cookie: ARRAffinity="), std::string::npos);
      EXPECT_TRUE(run.to_instance.starts_with("GET /x HTTP/1.1\r\n")) << run.to_instance;
      EXPECT_NE(run.to_instance.find("X-Forwarded-For: 10.0.0.7:5555"), std::string::npos);
      break;
    }
    expect_mapped_failure_or_close(run, n, 200);
  }
  RecordProperty("failed_steps", static_cast<int>(n));
  EXPECT_GT(n, 1u);  // at least the instance write and the client write failed once
  EXPECT_LT(n, 200u);
}

TEST(ProxyRelayFailCount, ChunkedPostFailsAtEveryStepThenSucceeds) {
  const std::string head =
      "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
      "Expect: 100-continue\r\n\r\n";
  const std::string body = "5\r\nabcde\r\n3\r\nfgh\r\n0\r\n\r\n";
  const std::string response =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndone\r\n0\r\n\r\n";
  std::size_t n = 0;
  for (; n < 400; ++n) {
    ExchangeRun run = run_exchange(n, head, body, response);
    if (run.completed && run.after == After::keep_alive &&
        run.to_client.ends_with("4\r\ndone\r\n0\r\n\r\n")) {
      EXPECT_TRUE(run.to_client.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201"))
          << run.to_client;
      EXPECT_TRUE(run.to_client.ends_with("4\r\ndone\r\n0\r\n\r\n")) << run.to_client;
      EXPECT_NE(run.to_instance.find("abcde"), std::string::npos) << run.to_instance;
      EXPECT_NE(run.to_instance.find("fgh"), std::string::npos) << run.to_instance;
      EXPECT_EQ(run.to_instance.find("Expect:"), std::string::npos);
      break;
    }
    expect_mapped_failure_or_close(run, n, 201);
  }
  RecordProperty("failed_steps", static_cast<int>(n));
  EXPECT_GT(n, 3u);
  EXPECT_LT(n, 400u);
}

TEST(ProxyRelay, InstanceThatClosesAtOnceIsA502AfterTheRetries) {
  // Every connection is closed before answering: retried elsewhere (there
  // is no elsewhere), then answered from the one mapping.
  ExchangeRun run = run_exchange(100000, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "", "");
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(status_of(run.to_client), status_for(ProxyFailure::upstream_broken)) << run.to_client;
  EXPECT_NE(run.to_client.find("log id: "), std::string::npos);
}

TEST(ProxyRelay, PooledConnectionFoundClosedIsRetriedOnceOnAFreshOne) {
  ExchangeRun run = run_exchange(100000, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "",
                                 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", {}, 1);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(status_of(run.to_client), 200) << run.to_client;
  EXPECT_EQ(run.fresh_only, (std::vector<bool>{false, true}));
  EXPECT_EQ(run.after, After::keep_alive);
}

TEST(ProxyRelay, GarbageFromTheInstanceIsA502) {
  ExchangeRun run =
      run_exchange(100000, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "", "NOT HTTP\r\n\r\n");
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(status_of(run.to_client), 502) << run.to_client;
  EXPECT_EQ(run.after, After::close);
}

TEST(ProxyRelay, UnrequestedUpgradeIsABadUpgrade) {
  ExchangeRun run = run_exchange(100000, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", "",
                                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n\r\n");
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(status_of(run.to_client), status_for(ProxyFailure::bad_upgrade)) << run.to_client;
  EXPECT_NE(run.to_client.find(describe(ProxyFailure::bad_upgrade)), std::string::npos);
}

TEST(ProxyRelay, Http10ClientGetsAChunkedBodyRawWithAClose) {
  ExchangeRun run = run_exchange(100000, "GET / HTTP/1.0\r\nHost: h\r\n\r\n", "",
                                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "3\r\nabc\r\n0\r\n\r\n");
  ASSERT_TRUE(run.completed);
  EXPECT_TRUE(run.to_client.starts_with("HTTP/1.0 200 OK\r\n")) << run.to_client;
  EXPECT_TRUE(run.to_client.ends_with("\r\n\r\nabc")) << run.to_client;
  EXPECT_EQ(run.after, After::close);
}

TEST(ProxyRelay, TooManyHeaderFieldsIs431WithoutAnInstance) {
  FrontConfig cfg;
  cfg.limits.max_header_count = 2;
  ExchangeRun run = run_exchange(100000, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", "",
                                 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", cfg);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(status_of(run.to_client), status_for(ProxyFailure::too_many_headers));
  EXPECT_TRUE(run.to_instance.empty());
}

TEST(ProxyRelay, BodyOverTheLimitIs413) {
  FrontConfig cfg;
  cfg.limits.max_body_bytes = 4;
  ExchangeRun run = run_exchange(
      100000, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
      "9\r\n123456789\r\n0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", cfg);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(status_of(run.to_client), status_for(ProxyFailure::body_too_large)) << run.to_client;
  EXPECT_EQ(run.after, After::close);
}

// --- tunnel ------------------------------------------------------------------

const std::string kUpgradeRequest =
    "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
    std::string(kKey) + "\r\n\r\n";

TEST(ProxyRelay, AcceptedUpgradeHandsOverTheInstanceStream) {
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
      http::websocket_accept(kKey) + "\r\n\r\nearly";
  ExchangeRun run = run_exchange(100000, kUpgradeRequest, "", response);
  ASSERT_TRUE(run.completed);
  EXPECT_EQ(run.after, After::tunnel);
  EXPECT_TRUE(run.to_client.starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << run.to_client;
  ASSERT_TRUE(run.handoff);
  EXPECT_EQ(run.handoff_to_client, "early");  // bytes past the 101, for the tunnel to send first
  EXPECT_EQ(run.handoff_instance, "a");
}

TEST(ProxyRelayFailCount, UpgradeFailsAtEveryStepThenHandsOverATunnel) {
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
      http::websocket_accept(kKey) + "\r\n\r\n";
  std::size_t n = 0;
  for (; n < 100; ++n) {
    ExchangeRun run = run_exchange(n, kUpgradeRequest, "", response);
    ASSERT_TRUE(run.completed) << "hung at n=" << n;
    if (run.after == After::tunnel) {
      EXPECT_TRUE(run.handoff);
      EXPECT_TRUE(run.to_client.starts_with("HTTP/1.1 101 ")) << run.to_client;
      break;
    }
    EXPECT_FALSE(run.handoff) << n;
    expect_mapped_failure_or_close(run, n, 101);
  }
  RecordProperty("failed_steps", static_cast<int>(n));
  EXPECT_GT(n, 1u);
  EXPECT_LT(n, 100u);
}

struct TunnelRun {
  bool completed = false;  // the tunnel went away: both ends closed, nothing pending
  std::string to_client;
  std::string to_instance;
};

TunnelRun run_tunnel_once(std::size_t n) {
  asio::io_context ctx;
  beast::test::fail_count fc(n);
  TestStream client(ctx, fc), client_peer(ctx);
  TestStream upstream(ctx, fc), instance(ctx);
  client.connect(client_peer);
  upstream.connect(instance);
  client.append("ping");
  client.close_remote();  // the client sends, then closes
  upstream.append("pong");
  upstream.close_remote();
  TunnelHandoff<TestStream> h{std::move(upstream), "early-up", "early-down", nullptr};
  auto t = std::make_shared<Tunnel<TestStream, TestStream>>(std::move(client), std::move(h));
  std::weak_ptr<Tunnel<TestStream, TestStream>> alive = t;
  t->start();
  t.reset();
  ctx.run_for(std::chrono::seconds(5));
  TunnelRun run;
  run.completed = alive.expired();
  run.to_client = std::string(client_peer.str());
  run.to_instance = std::string(instance.str());
  return run;
}

TEST(ProxyTunnelFailCount, EveryStepFailsOnceThenBothDirectionsArrive) {
  std::size_t n = 0;
  for (; n < 100; ++n) {
    TunnelRun run = run_tunnel_once(n);
    ASSERT_TRUE(run.completed) << "hung at n=" << n;
    if (run.to_instance == "early-upping" && run.to_client == "early-downpong") break;
    // A failed step closes both ends: nothing is invented on either side.
    EXPECT_TRUE(std::string("early-upping").starts_with(run.to_instance)) << n;
    EXPECT_TRUE(std::string("early-downpong").starts_with(run.to_client)) << n;
  }
  RecordProperty("failed_steps", static_cast<int>(n));
  EXPECT_GT(n, 3u);  // two pending writes, two reads, two writes, ...
  EXPECT_LT(n, 100u);
}

TEST(ProxyTunnel, IdleCloseEndsATunnelThatSaysNothing) {
  asio::io_context ctx;
  TestStream client(ctx), client_peer(ctx);
  TestStream upstream(ctx), instance(ctx);
  client.connect(client_peer);
  upstream.connect(instance);
  TunnelHandoff<TestStream> h{std::move(upstream), "", "", nullptr};
  auto t = std::make_shared<Tunnel<TestStream, TestStream>>(std::move(client), std::move(h));
  std::weak_ptr<Tunnel<TestStream, TestStream>> alive = t;
  t->start();
  TunnelBase* base = t.get();
  t.reset();
  ctx.poll();
  ASSERT_FALSE(alive.expired());  // both directions wait for bytes
  base->close_both();             // what sweep_idle_tunnels does for an idle one
  ctx.poll();
  EXPECT_TRUE(alive.expired());
}

}  // namespace
}  // namespace tether::front::proxy
