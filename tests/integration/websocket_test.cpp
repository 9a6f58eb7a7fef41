// WebSocket upgrades through the front door: affinity on the 101, bytes
// tunneled both ways, half-close, resets, idle timeout and stop.
#include <signal.h>

#include <gtest/gtest.h>

#include "support/raw_http.hpp"
#include "support/tether_fixtures.hpp"
#include "support/ws_client.hpp"

namespace tether::test {
namespace {

TEST(WebSocket, UpgradeIsBalancedPinnedAndEchoes) {
  // Scenario: a WebSocket without a cookie is balanced and its 101 carries
  // both affinity cookies; messages cross the tunnel both ways.
  auto a = start_instance(), b = start_instance();
  auto front = start_front_for({&a, &b});
  WsClient ws(front.port, "/ws");
  auto id = std::string(ws.handshake()["X-Instance-Id"]);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(set_cookie_value(ws.handshake(), "ARRAffinity"), id);
  EXPECT_EQ(set_cookie_value(ws.handshake(), "ARRAffinitySameSite"), id);
  EXPECT_EQ(ws.receive(), "hello " + id);
  ws.send("ping 1");
  EXPECT_EQ(ws.receive(), "ping 1");
  std::string big(200'000, 'z');
  ws.send(big);
  EXPECT_EQ(ws.receive(), big);
  ws.close();
}

TEST(WebSocket, CookiePinsTheUpgradeWithoutNewCookies) {
  // Scenario: a browser pinned by an earlier page load opens its WebSocket
  // on the same instance; the 101 sets no cookie.
  auto a = start_instance(), b = start_instance(), c = start_instance();
  auto front = start_front_for({&a, &b, &c});
  for (auto* inst : {&a, &b, &c}) {
    WsClient ws(front.port, "/ws", "ARRAffinity=" + inst->id);
    EXPECT_EQ(std::string(ws.handshake()["X-Instance-Id"]), inst->id);
    EXPECT_TRUE(set_cookies(ws.handshake()).empty());
    EXPECT_EQ(ws.receive(), "hello " + inst->id);
  }
}

TEST(WebSocket, ClientHalfCloseReachesTheInstance) {
  // Scenario: the client shuts down its sending side right after the
  // upgrade; the instance sees EOF and closes, so the client reads the 101,
  // the greeting and then the end of the stream.
  auto a = start_instance();
  auto front = start_front_for({&a});
  std::string req =
      "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  bool closed = false;
  auto out = raw_exchange(front.port, req, /*shutdown_write=*/true, std::chrono::seconds(60),
                          &closed);
  EXPECT_TRUE(closed) << "the EOF never reached the instance";
  EXPECT_EQ(out.rfind("HTTP/1.1 101", 0), 0u) << out;
  EXPECT_NE(out.find("hello " + a.id), std::string::npos);
}

TEST(WebSocket, InstanceDeathClosesTheClientSide) {
  // Scenario: the instance behind an open tunnel is SIGKILLed; the client's
  // connection is closed instead of hanging.
  auto a = start_instance();
  auto front = start_front_for({&a});
  WsClient ws(front.port, "/ws");
  EXPECT_EQ(ws.receive(), "hello " + a.id);
  a.proc->signal(SIGKILL);
  a.proc->wait();
  EXPECT_EQ(ws.receive(), std::nullopt);
}

TEST(WebSocket, IdleTunnelIsClosedAfterTunnelIdle) {
  // Scenario: timeouts.tunnel_idle = 300ms and nobody speaks: the front door
  // closes the tunnel.
  auto a = start_instance();
  auto cfg = write_temp_file("idle.toml", "[front.timeouts]\ntunnel_idle = \"300ms\"\n");
  auto front = start_front_for({&a}, {"--config", cfg});
  WsClient ws(front.port, "/ws");
  EXPECT_EQ(ws.receive(), "hello " + a.id);
  EXPECT_EQ(ws.receive(std::chrono::seconds(60)), std::nullopt);
}

TEST(WebSocket, PlainRequestToWebSocketRouteGets426) {
  // Scenario: a plain GET on a WebSocket endpoint is told to upgrade.
  auto a = start_instance();
  auto front = start_front_for({&a});
  EXPECT_EQ(get(front.port, "/ws").result_int(), 426);
}

TEST(WebSocket, SigtermClosesTunnelsAndExits) {
  // Scenario: the front door is stopped while a tunnel is open: the tunnel
  // is closed and the process exits cleanly.
  auto a = start_instance();
  auto front = start_front_for({&a});
  WsClient ws(front.port, "/ws");
  EXPECT_EQ(ws.receive(), "hello " + a.id);
  front.proc->signal(SIGTERM);
  EXPECT_EQ(ws.receive(std::chrono::seconds(60)), std::nullopt);
  EXPECT_EQ(front.proc->wait(), 0);
}

}  // namespace
}  // namespace tether::test
