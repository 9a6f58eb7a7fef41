// The proxy path's pure phases (src/front/proxy/): route (affinity, local
// routes, the attempt count), rewrite (request header, response filter,
// framing) and the outcome's status, without a socket.
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

#include "front/proxy/outcome.hpp"
#include "front/proxy/rewrite.hpp"
#include "front/proxy/route.hpp"
#include "front/proxy/upstream.hpp"
#include "tether/http/message_encoder.hpp"
#include "tether/http/message_rules.hpp"

namespace tether::front::proxy {
namespace {

namespace bhttp = boost::beast::http;

// A parsed request and the front door's reading of it.
struct Parsed {
  bhttp::request_parser<bhttp::buffer_body> parser;
  http::RequestReading reading;
};

std::unique_ptr<Parsed> parse(std::string_view text) {
  auto p = std::make_unique<Parsed>();
  boost::beast::error_code ec;
  p->parser.put(boost::asio::buffer(text.data(), text.size()), ec);
  EXPECT_TRUE(!ec || ec == bhttp::error::need_buffer) << ec.message();
  EXPECT_TRUE(p->parser.is_header_done());
  p->reading = http::read_request(p->parser.get(), p->parser.chunked(), p->parser.content_length());
  return p;
}

RelayResponse response(bhttp::status s, unsigned version = 11) {
  RelayResponse res{s, version};
  return res;
}

struct Instances {
  InstanceTable table{TokenMode::instance_id};
  std::shared_ptr<Instance> a = table.add("a", "127.0.0.1:1");
  std::shared_ptr<Instance> b = table.add("b", "127.0.0.1:2");
  std::shared_ptr<const InstanceSnapshot> snap = table.snapshot();
};

TEST(ProxyRoute, ValidCookiePinsAndCounts) {
  Instances in;
  Affinity affinity{AffinityConfig{}};
  FrontStats stats;
  auto p = parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: ARRAffinity=" + in.b->token + "\r\n\r\n");
  RouteDecision d = route_by_affinity(affinity, *in.snap, p->parser.get(), p->reading.target,
                                      RelayConfig{}, nullptr, now_ms(), wall_seconds(), stats);
  EXPECT_EQ(d.inst, in.b.get());
  EXPECT_TRUE(d.pinned);
  EXPECT_FALSE(d.to_local);
  EXPECT_EQ(stats.affinity_pinned.load(), 1u);
  EXPECT_EQ(in.b->pinned_requests.load(), 1u);
}

TEST(ProxyRoute, CookieOfADownInstanceRepins) {
  Instances in;
  Affinity affinity{AffinityConfig{}};
  FrontStats stats;
  const std::int64_t now = now_ms();
  in.b->down_until = now + 10'000;
  auto p = parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: ARRAffinity=" + in.b->token + "\r\n\r\n");
  RouteDecision d = route_by_affinity(affinity, *in.snap, p->parser.get(), p->reading.target,
                                      RelayConfig{}, nullptr, now, wall_seconds(), stats);
  EXPECT_EQ(d.inst, nullptr);
  EXPECT_FALSE(d.pinned);
  EXPECT_TRUE(d.had_token);
  EXPECT_EQ(stats.affinity_repinned.load(), 1u);
  EXPECT_EQ(stats.affinity_pinned.load(), 0u);
}

TEST(ProxyRoute, UnknownCookieAndNoCookieGoToBalancing) {
  Instances in;
  Affinity affinity{AffinityConfig{}};
  FrontStats stats;
  auto p = parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: ARRAffinity=nobody\r\n\r\n");
  auto d = route_by_affinity(affinity, *in.snap, p->parser.get(), p->reading.target, RelayConfig{},
                             nullptr, now_ms(), wall_seconds(), stats);
  EXPECT_EQ(d.inst, nullptr);
  EXPECT_TRUE(d.had_token);
  auto q = parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto e = route_by_affinity(affinity, *in.snap, q->parser.get(), q->reading.target, RelayConfig{},
                             nullptr, now_ms(), wall_seconds(), stats);
  EXPECT_EQ(e.inst, nullptr);
  EXPECT_FALSE(e.had_token);
  EXPECT_EQ(stats.affinity_repinned.load(), 1u);
}

TEST(ProxyRoute, ExpiredTimedCookieCountsAsExpired) {
  Instances in;
  AffinityConfig c;
  c.max_life = std::chrono::seconds(10);
  Affinity affinity{c};
  FrontStats stats;
  const std::int64_t wall = wall_seconds();
  // Issued 100 s ago, last seen 100 s ago: past max_life.
  const std::string value = affinity.cookie_value(in.a->token, wall - 100, wall - 100);
  auto p = parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: ARRAffinity=" + value + "\r\n\r\n");
  auto d = route_by_affinity(affinity, *in.snap, p->parser.get(), p->reading.target, RelayConfig{},
                             nullptr, now_ms(), wall, stats);
  EXPECT_EQ(d.inst, nullptr);
  EXPECT_TRUE(d.pin_expired);
  EXPECT_EQ(stats.affinity_expired.load(), 1u);
}

TEST(ProxyRoute, AnIdlePinOnALoadedInstanceIsRebalanced) {
  // Scenario (issue 15): rebalance_idle = 60 s; a is busy, b idle, both
  // portable. A client pinned to a returns after 100 s: it goes to b,
  // unpinned (the response re-pins it), counted; a client back after 10 s
  // stays on a.
  Instances in;
  in.a->portable = true;
  in.b->portable = true;
  AffinityConfig c;
  c.rebalance_idle = std::chrono::seconds(60);
  Affinity affinity{c};
  FrontStats stats;
  Rebalancer rebalancer;
  const std::int64_t wall = wall_seconds();
  const std::int64_t t0 = now_ms();
  auto request = [&](std::int64_t idle_s, std::int64_t now) {
    const auto value = affinity.cookie_value(in.a->token, wall - 500, wall - idle_s);
    auto p = parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: ARRAffinity=" + value + "\r\n\r\n");
    return route_by_affinity(affinity, *in.snap, p->parser.get(), p->reading.target, RelayConfig{},
                             nullptr, now, wall, stats, &rebalancer);
  };
  auto first = request(100, t0);  // the loads are not measured yet: stays
  EXPECT_EQ(first.inst, in.a.get());
  EXPECT_TRUE(first.pinned);
  in.a->requests += 100;  // 50 requests a second over the next 2 s
  auto busy = request(10, t0 + 2'000);
  EXPECT_EQ(busy.inst, in.a.get());  // not idle long enough
  EXPECT_FALSE(busy.rebalanced);
  auto idle = request(100, t0 + 2'000);
  EXPECT_EQ(idle.inst, in.b.get());
  EXPECT_TRUE(idle.rebalanced);
  EXPECT_FALSE(idle.pinned);
  EXPECT_EQ(stats.affinity_rebalanced.load(), 1u);
  EXPECT_EQ(stats.affinity_repinned.load(), 0u);
  EXPECT_EQ(in.a->rebalanced_out.load(), 1u);
  EXPECT_EQ(in.b->rebalanced_in.load(), 1u);
  // The response pins the client to b.
  auto res = response(bhttp::status::ok);
  filter_response(res, affinity, RelayConfig{}, idle, *in.b, "h", false, wall, false, "", stats);
  ASSERT_GE(res.count(bhttp::field::set_cookie), 1u);
  EXPECT_EQ(std::string(res[bhttp::field::set_cookie]).rfind("ARRAffinity=" + in.b->token + ".", 0),
            0u);
  // Without a rebalancer (rebalancing off) nothing moves.
  in.a->requests += 100;
  auto off = route_by_affinity(
      affinity, *in.snap,
      parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: ARRAffinity=" +
            affinity.cookie_value(in.a->token, wall - 500, wall - 100) + "\r\n\r\n")
          ->parser.get(),
      "/", RelayConfig{}, nullptr, t0 + 4'000, wall, stats);
  EXPECT_EQ(off.inst, in.a.get());
}

TEST(ProxyRoute, LocalPrefixGoesToTheLocalInstanceOnly) {
  Instances in;
  Affinity affinity{AffinityConfig{}};
  FrontStats stats;
  RelayConfig relay;
  relay.local_prefix = "/.tether/";
  InstanceTable own(TokenMode::instance_id);
  auto local = own.add(".tether", "127.0.0.1:3");
  auto p = parse("GET /.tether/x HTTP/1.1\r\nHost: x\r\n\r\n");
  auto d = route_by_affinity(affinity, *in.snap, p->parser.get(), p->reading.target, relay,
                             local.get(), now_ms(), wall_seconds(), stats);
  EXPECT_EQ(d.inst, local.get());
  EXPECT_TRUE(d.to_local);
  EXPECT_TRUE(d.pinned);
  auto q = parse("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
  auto e = route_by_affinity(affinity, *in.snap, q->parser.get(), q->reading.target, relay,
                             local.get(), now_ms(), wall_seconds(), stats);
  EXPECT_FALSE(e.to_local);
  EXPECT_EQ(e.inst, nullptr);
}

TEST(ProxyRoute, TriedInstancesCountsPastSixteen) {
  Instances in;
  TriedInstances tried;
  EXPECT_TRUE(tried.none());
  for (int i = 0; i < 20; ++i) tried.add(in.a.get());
  EXPECT_EQ(tried.attempts(), 20u);
  EXPECT_EQ(tried.excluded().size(), 16u);
}

// Issue 13: connect_attempts above 16 with down_period = 0 looped forever.
TEST(ProxyUpstream, RetryPolicyEndsAfterConnectAttemptsEvenPastSixteen) {
  Instances in;
  FrontConfig cfg;
  cfg.limits.connect_attempts = 40;
  cfg.timeouts.down_period = std::chrono::milliseconds(0);
  FrontStats stats;
  RetryPolicy retry{cfg, stats, false};
  int again = 0;
  while (retry.abandon(*in.a, now_ms())) ASSERT_LT(++again, 1000);
  EXPECT_EQ(again, 39);
  EXPECT_EQ(retry.tried().attempts(), 40u);
  EXPECT_EQ(stats.retries.load(), 39u);
}

TEST(ProxyUpstream, RetryPolicyMarksDownAndNeverLeavesALocalRoute) {
  Instances in;
  FrontConfig cfg;
  cfg.timeouts.down_period = std::chrono::milliseconds(5000);
  FrontStats stats;
  RetryPolicy local{cfg, stats, true};
  const std::int64_t now = now_ms();
  EXPECT_FALSE(local.abandon(*in.a, now));
  EXPECT_EQ(in.a->down_until.load(), now + 5000);
  EXPECT_TRUE(local.tried().none());
  RetryPolicy balanced{cfg, stats, false};
  balanced.retry_fresh();
  EXPECT_TRUE(balanced.fresh_only());
  EXPECT_TRUE(balanced.abandon(*in.b, now));
  EXPECT_FALSE(balanced.fresh_only());  // a new instance starts with its pool
}

TEST(ProxyUpstream, OnlyIdempotentRequestsMeetingACloseAreRetried) {
  using boost::asio::error::connection_reset;
  EXPECT_TRUE(retryable_read_error(bhttp::error::end_of_stream, false, false, bhttp::verb::get));
  EXPECT_TRUE(retryable_read_error(connection_reset, false, false, bhttp::verb::put));
  EXPECT_FALSE(retryable_read_error(connection_reset, false, false, bhttp::verb::post));
  EXPECT_FALSE(retryable_read_error(connection_reset, true, false, bhttp::verb::get));
  EXPECT_FALSE(retryable_read_error(connection_reset, false, true, bhttp::verb::get));
  EXPECT_FALSE(retryable_read_error(boost::beast::error::timeout, false, false, bhttp::verb::get));
}

ClientSide client(bool https) {
  ClientSide cs;
  cs.ip = "10.0.0.7";
  cs.port = "5555";
  cs.local = "10.0.0.1:80";
  cs.https = https;
  return cs;
}

// The request header as the instance receives it: rendered (fields, then
// the forwarding lines) and parsed again.
bhttp::request<bhttp::empty_body> as_sent(const RelayRequest& req, const std::string& extra) {
  const std::string head = http::render_head(req, extra);
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.eager(false);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head), ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << head;
  EXPECT_TRUE(parser.is_header_done()) << head;
  return parser.release();
}

TEST(ProxyRewrite, RequestGetsArrHeadersAndOneFramingHeader) {
  auto p = parse(
      "POST /a?b HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 1.2.3.4\r\n"
      "X-ARR-SSL: forged\r\nx-client-ip: 6.6.6.6\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
      "Keep-Alive: 5\r\n"
      "X-Internal-Secret: s\r\nTransfer-Encoding: chunked\r\n\r\n");
  RelayConfig relay;
  relay.strip_request_prefix = "X-Internal-";
  auto& rewritten = p->parser.get();
  std::string extra;
  rewrite_request(rewritten, p->reading, relay, client(false), "example.com", "LOG", false, extra);
  const auto req = as_sent(rewritten, extra);
  EXPECT_EQ(req[bhttp::field::host], "example.com");
  EXPECT_EQ(req.count("X-Forwarded-For"), 1u);  // the client's line is extended, not repeated
  EXPECT_EQ(req["X-Forwarded-For"], "1.2.3.4, 10.0.0.7:5555");
  EXPECT_EQ(req["X-Forwarded-Proto"], "http");
  EXPECT_EQ(req["X-Forwarded-Host"], "example.com");
  EXPECT_EQ(req.count("X-Client-IP"), 1u);  // the client's own (any case) is replaced
  EXPECT_EQ(req["X-Client-IP"], "10.0.0.7");
  EXPECT_EQ(req["X-Client-Port"], "5555");
  EXPECT_EQ(req["X-ARR-LOG-ID"], "LOG");
  EXPECT_EQ(req["X-Original-URL"], "/a?b");
  EXPECT_EQ(req.count("X-ARR-SSL"), 0u);  // the client's own is removed
  EXPECT_EQ(req.count("X-Hop"), 0u);
  EXPECT_EQ(req.count("Keep-Alive"), 0u);
  EXPECT_EQ(req.count("X-Internal-Secret"), 0u);
  EXPECT_EQ(req[bhttp::field::transfer_encoding], "chunked");
  EXPECT_EQ(req.count(bhttp::field::content_length), 0u);
  EXPECT_EQ(req.version(), 11u);
  EXPECT_TRUE(req.keep_alive());
}

TEST(ProxyRewrite, HttpsAddsArrSslAndLocalRouteThePeerHeader) {
  auto p = parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  RelayConfig relay;
  relay.peer_header = "X-Peer";
  auto& rewritten = p->parser.get();
  std::string extra;
  rewrite_request(rewritten, p->reading, relay, client(true), "h", "L", true, extra);
  const auto req = as_sent(rewritten, extra);
  EXPECT_EQ(req["X-ARR-SSL"], "on");
  EXPECT_EQ(req["X-Forwarded-Proto"], "https");
  EXPECT_EQ(req["X-Peer"], "10.0.0.7");
}

TEST(ProxyRewrite, WithoutForwardingHeadersNothingIsAdded) {
  auto p = parse("GET / HTTP/1.0\r\n\r\n");
  RelayConfig relay;
  relay.forwarding_headers = false;
  auto& req = p->parser.get();
  std::string extra;
  rewrite_request(req, p->reading, relay, client(false), "10.0.0.1:80", "L", false, extra);
  EXPECT_EQ(extra, "");
  EXPECT_EQ(req.count("X-Forwarded-For"), 0u);
  EXPECT_EQ(req[bhttp::field::host], "10.0.0.1:80");
  EXPECT_EQ(req.version(), 11u);
}

TEST(ProxyRewrite, WebSocketHandshakeKeepsTheUpgradePair) {
  auto p = parse(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  ASSERT_TRUE(p->reading.websocket);
  auto& req = p->parser.get();
  std::string extra;
  rewrite_request(req, p->reading, RelayConfig{}, client(false), "h", "L", false, extra);
  EXPECT_EQ(req[bhttp::field::connection], "Upgrade");
  EXPECT_EQ(req[bhttp::field::upgrade], "websocket");
}

TEST(ProxyFilter, BalancedResponseGetsCookiesAndHeaders) {
  Instances in;
  Affinity affinity{AffinityConfig{}};
  FrontStats stats;
  RelayConfig relay;
  relay.response_headers = {{"X-Front", "yes"}};
  RouteDecision route;  // balanced
  auto res = response(bhttp::status::ok);
  res.set(bhttp::field::connection, "keep-alive");
  auto f = filter_response(res, affinity, relay, route, *in.a, "example.com", false, wall_seconds(),
                           false, "", stats);
  EXPECT_FALSE(f.failure);
  EXPECT_FALSE(f.opt_out);
  EXPECT_TRUE(f.upstream_keep_alive);
  EXPECT_EQ(res["X-Front"], "yes");
  EXPECT_EQ(res.count(bhttp::field::connection), 0u);
  EXPECT_EQ(res.count(bhttp::field::set_cookie), 2u);
  EXPECT_EQ(stats.affinity_cookies_set.load(), 1u);
}

TEST(ProxyFilter, OptOutHeaderIsTakenAndNoCookieIsSet) {
  Instances in;
  Affinity affinity{AffinityConfig{}};
  FrontStats stats;
  RouteDecision route;
  auto res = response(bhttp::status::ok);
  res.set("Arr-Disable-Session-Affinity", "true");
  auto f = filter_response(res, affinity, RelayConfig{}, route, *in.a, "h", false, wall_seconds(),
                           false, "", stats);
  EXPECT_TRUE(f.opt_out);
  EXPECT_EQ(res.count("Arr-Disable-Session-Affinity"), 0u);
  EXPECT_EQ(res.count(bhttp::field::set_cookie), 0u);
  EXPECT_EQ(stats.affinity_opt_outs.load(), 1u);
}

TEST(ProxyFilter, PortableSessionsHeaderIsTakenUnlessInsideAnInstance) {
  Instances in;
  Affinity affinity{AffinityConfig{}};
  FrontStats stats;
  RouteDecision route;
  auto res = response(bhttp::status::ok);
  res.set("Tether-Session-Portable", "true");
  auto f = filter_response(res, affinity, RelayConfig{}, route, *in.a, "h", false, wall_seconds(),
                           false, "", stats);
  EXPECT_EQ(f.portable, true);
  EXPECT_EQ(res.count("Tether-Session-Portable"), 0u);
  // Inside an instance (a sidecar's relay) it is the outer front door's.
  RelayConfig inner;
  inner.forwarding_headers = false;
  auto res2 = response(bhttp::status::ok);
  res2.set("Tether-Session-Portable", "true");
  auto g = filter_response(res2, affinity, inner, route, *in.a, "h", false, wall_seconds(), false,
                           "", stats);
  EXPECT_EQ(g.portable, std::nullopt);
  EXPECT_EQ(res2["Tether-Session-Portable"], "true");
}

TEST(ProxyFilter, PinnedAndLocalResponsesGetNoNewCookie) {
  Instances in;
  Affinity affinity{AffinityConfig{}};
  FrontStats stats;
  RouteDecision pinned;
  pinned.pinned = true;
  auto res = response(bhttp::status::ok);
  filter_response(res, affinity, RelayConfig{}, pinned, *in.a, "h", false, wall_seconds(), false,
                  "", stats);
  EXPECT_EQ(res.count(bhttp::field::set_cookie), 0u);
  RouteDecision local;
  local.to_local = true;
  auto res2 = response(bhttp::status::ok);
  filter_response(res2, affinity, RelayConfig{}, local, *in.a, "h", false, wall_seconds(), false,
                  "", stats);
  EXPECT_EQ(res2.count(bhttp::field::set_cookie), 0u);
}

TEST(ProxyFilter, UnrequestedOrMismatched101IsABadUpgrade) {
  Instances in;
  Affinity affinity{AffinityConfig{}};
  FrontStats stats;
  RouteDecision route;
  auto res = response(bhttp::status::switching_protocols);
  auto f = filter_response(res, affinity, RelayConfig{}, route, *in.a, "h", false, wall_seconds(),
                           false, "", stats);
  ASSERT_TRUE(f.failure);
  EXPECT_EQ(*f.failure, ProxyFailure::bad_upgrade);
  EXPECT_EQ(status_for(*f.failure), 502);
  res.set(bhttp::field::sec_websocket_accept, "wrong");
  auto g = filter_response(res, affinity, RelayConfig{}, route, *in.a, "h", false, wall_seconds(),
                           true, "dGhlIHNhbXBsZSBub25jZQ==", stats);
  ASSERT_TRUE(g.failure);
  res.set(bhttp::field::sec_websocket_accept, http::websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="));
  res.set(bhttp::field::connection, "Upgrade");
  res.set(bhttp::field::upgrade, "websocket");
  auto h = filter_response(res, affinity, RelayConfig{}, route, *in.a, "h", false, wall_seconds(),
                           true, "dGhlIHNhbXBsZSBub25jZQ==", stats);
  EXPECT_FALSE(h.failure);
  prepare_upgrade_response(res);
  EXPECT_EQ(res[bhttp::field::upgrade], "websocket");
  EXPECT_EQ(res[bhttp::field::connection], "Upgrade");
}

TEST(ProxyFraming, ChunkedToAnHttp10ClientIsRawBytesAndAClose) {
  auto res = response(bhttp::status::ok);
  http::ResponseReading rr;
  rr.framing = http::Framing::chunked;
  auto f = frame_response(res, rr, 10, true, true, false);
  EXPECT_EQ(f.out, http::Framing::until_close);
  EXPECT_FALSE(f.client_keep_alive);
  EXPECT_TRUE(f.upstream_reusable);
  EXPECT_EQ(res.version(), 10u);
  EXPECT_EQ(res.count(bhttp::field::transfer_encoding), 0u);
}

TEST(ProxyFraming, UntilCloseToAnHttp11ClientIsChunkedAndNotPooled) {
  auto res = response(bhttp::status::ok);
  http::ResponseReading rr;
  rr.framing = http::Framing::until_close;
  auto f = frame_response(res, rr, 11, true, true, false);
  EXPECT_EQ(f.out, http::Framing::chunked);
  EXPECT_TRUE(f.client_keep_alive);
  EXPECT_FALSE(f.upstream_reusable);
  EXPECT_EQ(res[bhttp::field::transfer_encoding], "chunked");
}

TEST(ProxyFraming, LengthIsKeptAndStoppingCloses) {
  auto res = response(bhttp::status::ok);
  http::ResponseReading rr;
  rr.framing = http::Framing::length;
  rr.length = 5;
  auto f = frame_response(res, rr, 11, true, false, true);
  EXPECT_EQ(f.out, http::Framing::length);
  EXPECT_EQ(res[bhttp::field::content_length], "5");
  EXPECT_FALSE(f.client_keep_alive);  // the front door stops
  EXPECT_FALSE(f.upstream_reusable);  // the instance said close
}

TEST(ProxyOutcome, StatusComesFromTheOneMapping) {
  for (auto f :
       {ProxyFailure::no_instance, ProxyFailure::connect_failed, ProxyFailure::upstream_timeout,
        ProxyFailure::upstream_broken, ProxyFailure::upstream_framing, ProxyFailure::bad_upgrade,
        ProxyFailure::body_too_large, ProxyFailure::bad_request_body,
        ProxyFailure::too_many_headers, ProxyFailure::too_busy})
    EXPECT_EQ(Outcome::fail(f).status(), status_for(f));
  EXPECT_EQ(Outcome::ok().status(), 0);
  EXPECT_EQ(Outcome::close().status(), 0);
  EXPECT_EQ(status_for(ProxyFailure::bad_request_body), 400);
  EXPECT_EQ(status_for(ProxyFailure::upstream_timeout), 504);
}

}  // namespace
}  // namespace tether::front::proxy
