// The Hub without a backplane or sockets: handshake, invocations and their
// completions, sends to all/others/group/user/connection, slow clients,
// disconnect events.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "tether/realtime/connection.hpp"
#include "tether/mesh/backplane.hpp"
#include "tether/realtime/hub.hpp"
#include "realtime/fake_backplane.hpp"
#include "tether/net/jwt.hpp"

namespace tether::realtime {
namespace {

namespace json = boost::json;

struct HubTest : ::testing::Test {
  boost::asio::io_context io;
  std::shared_ptr<Hub> hub;

  void SetUp() override {
    HubOptions o;
    o.max_queued = 8;
    o.user_id = [](const http::Request& r) {
      auto t = std::string(r.target());
      auto p = t.find("user=");
      return p == std::string::npos ? std::string() : t.substr(p + 5);
    };
    hub = Hub::create(nullptr, o);
    hub->on("Echo", [](Hub::Caller&, json::array& a) -> json::value { return a.at(0); });
    hub->on("Nothing", [](Hub::Caller&, json::array&) -> json::value { return nullptr; });
    hub->on("Fail", [](Hub::Caller&, json::array&) -> json::value { throw HubError("nope"); });
    hub->on("Crash",
            [](Hub::Caller&, json::array&) -> json::value { throw std::runtime_error("secret"); });
    hub->on("All", [](Hub::Caller& c, json::array& a) -> json::value {
      c.hub.send_all("Got", a);
      return nullptr;
    });
    hub->on("Others", [](Hub::Caller& c, json::array& a) -> json::value {
      c.hub.send_all("Got", a, {c.connection_id});
      return nullptr;
    });
    hub->on("Join", [](Hub::Caller& c, json::array& a) -> json::value {
      c.hub.add_to_group(c.connection_id, std::string(a.at(0).as_string()));
      return nullptr;
    });
    hub->on("ToGroup", [](Hub::Caller& c, json::array& a) -> json::value {
      c.hub.send_group(std::string(a.at(0).as_string()), "Got", a);
      return nullptr;
    });
    hub->on("ToUser", [](Hub::Caller& c, json::array& a) -> json::value {
      c.hub.send_user(std::string(a.at(0).as_string()), "Got", a);
      return nullptr;
    });
    hub->on_stream("Count", [](Hub::Caller&, json::array&) -> json::array { return {1, 2}; });
  }

  std::shared_ptr<Connection> connect(std::string target = "/hub") {
    http::Request req;
    req.target(target);
    auto c = hub->create_connection(io.get_executor(), 1, req);
    c->transport = TransportKind::websockets;
    hub->receive(c, "{\"protocol\":\"json\",\"version\":1}\x1e");
    EXPECT_EQ(c->take_output(), "{}\x1e");
    return c;
  }
};

TEST_F(HubTest, BadHandshakeAnswersAnErrorAndCloses) {
  http::Request req;
  auto c = hub->create_connection(io.get_executor(), 1, req);
  hub->receive(c, "{\"protocol\":\"xml\",\"version\":1}\x1e");
  EXPECT_EQ(c->take_output(), "{\"error\":\"The protocol 'xml' is not supported.\"}\x1e");
  EXPECT_TRUE(c->closing);
}

TEST_F(HubTest, HandshakeMayArriveInPieces) {
  http::Request req;
  auto c = hub->create_connection(io.get_executor(), 1, req);
  hub->receive(c, "{\"protocol\":\"js");
  EXPECT_TRUE(c->output.empty());
  hub->receive(c,
               "on\",\"version\":1}\x1e{\"type\":1,\"invocationId\":\"1\",\"target\":\"echo\","
               "\"arguments\":[5]}\x1e");
  EXPECT_EQ(c->take_output(), "{}\x1e{\"type\":3,\"invocationId\":\"1\",\"result\":5}\x1e");
}

TEST_F(HubTest, CompletionsResultsAndErrors) {
  auto c = connect();
  hub->receive(c,
               "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Nothing\",\"arguments\":[]}\x1e");
  EXPECT_EQ(c->take_output(), "{\"type\":3,\"invocationId\":\"1\"}\x1e");
  hub->receive(c, "{\"type\":1,\"invocationId\":\"2\",\"target\":\"Fail\",\"arguments\":[]}\x1e");
  EXPECT_EQ(c->take_output(), "{\"type\":3,\"invocationId\":\"2\",\"error\":\"nope\"}\x1e");
  hub->receive(c, "{\"type\":1,\"invocationId\":\"3\",\"target\":\"Crash\",\"arguments\":[]}\x1e");
  auto crash = c->take_output();
  EXPECT_EQ(crash.find("secret"), std::string::npos) << crash;
  EXPECT_NE(crash.find("An unexpected error occurred invoking 'Crash'"), std::string::npos);
  hub->receive(c,
               "{\"type\":1,\"invocationId\":\"4\",\"target\":\"Missing\",\"arguments\":[]}\x1e");
  EXPECT_NE(c->take_output().find("Method does not exist"), std::string::npos);
  // Non-blocking: no completion, not even for an error.
  hub->receive(c, "{\"type\":1,\"target\":\"Fail\",\"arguments\":[]}\x1e{\"type\":6}\x1e");
  EXPECT_TRUE(c->output.empty());
  hub->receive(c, "{\"type\":4,\"invocationId\":\"5\",\"target\":\"Count\",\"arguments\":[]}\x1e");
  EXPECT_EQ(c->take_output(),
            "{\"type\":2,\"invocationId\":\"5\",\"item\":1}\x1e"
            "{\"type\":2,\"invocationId\":\"5\",\"item\":2}\x1e"
            "{\"type\":3,\"invocationId\":\"5\"}\x1e");
  EXPECT_FALSE(c->closing);
}

TEST_F(HubTest, MalformedMessageClosesWithAnError) {
  auto c = connect();
  hub->receive(c, "{\"type\":1}\x1e");
  auto out = c->take_output();
  EXPECT_EQ(out.rfind("{\"type\":7,\"error\":\"Connection closed with an error.", 0), 0u) << out;
  EXPECT_TRUE(c->closing);
}

TEST_F(HubTest, SendsReachTheRightConnections) {
  auto a = connect("/hub?user=ann"), b = connect("/hub?user=bob"), b2 = connect("/hub?user=bob");
  hub->receive(a, "{\"type\":1,\"target\":\"All\",\"arguments\":[1]}\x1e");
  for (auto* c : {&a, &b, &b2})
    EXPECT_EQ((*c)->take_output(), "{\"type\":1,\"target\":\"Got\",\"arguments\":[1]}\x1e");
  hub->receive(a, "{\"type\":1,\"target\":\"Others\",\"arguments\":[2]}\x1e");
  EXPECT_TRUE(a->output.empty());
  EXPECT_EQ(b->output.size(), 1u);
  EXPECT_EQ(b2->output.size(), 1u);
  b->take_output();
  b2->take_output();
  hub->receive(b, "{\"type\":1,\"target\":\"Join\",\"arguments\":[\"g\"]}\x1e");
  hub->receive(a, "{\"type\":1,\"target\":\"ToGroup\",\"arguments\":[\"g\"]}\x1e");
  EXPECT_TRUE(a->output.empty());
  EXPECT_EQ(b->output.size(), 1u);
  EXPECT_TRUE(b2->output.empty());
  b->take_output();
  hub->receive(a, "{\"type\":1,\"target\":\"ToUser\",\"arguments\":[\"bob\"]}\x1e");
  EXPECT_TRUE(a->output.empty());
  EXPECT_EQ(b->output.size(), 1u);
  EXPECT_EQ(b2->output.size(), 1u);
  hub->send_connection(a->id, "Direct", {});
  EXPECT_EQ(a->take_output(), "{\"type\":1,\"target\":\"Direct\",\"arguments\":[]}\x1e");
}

TEST_F(HubTest, RemoveLeavesGroupsAndFiresDisconnectedOnce) {
  int connected = 0, disconnected = 0;
  hub->on_connected([&](Hub::Caller&) { ++connected; });
  hub->on_disconnected([&](Hub::Caller&) { ++disconnected; });
  auto a = connect(), b = connect();
  EXPECT_EQ(connected, 2);
  hub->add_to_group(a->id, "g");
  hub->remove(a);
  hub->remove(a);
  EXPECT_EQ(disconnected, 1);
  EXPECT_EQ(hub->local_connections(), 1u);
  EXPECT_EQ(hub->find(a->token), nullptr);
  hub->send_group("g", "Got", {});
  EXPECT_TRUE(b->output.empty());
}

TEST_F(HubTest, SlowClientIsDropped) {
  auto c = connect();
  for (int i = 0; i < 20; ++i) hub->send_connection(c->id, "Got", {i});
  EXPECT_TRUE(c->closing);
  EXPECT_TRUE(c->output.empty());
  EXPECT_EQ(hub->stats().slow_clients_dropped, 1u);
}

TEST_F(HubTest, VersionZeroUsesTheIdAsToken) {
  http::Request req;
  auto c0 = hub->create_connection(io.get_executor(), 0, req);
  EXPECT_EQ(c0->token, c0->id);
  auto c1 = hub->create_connection(io.get_executor(), 1, req);
  EXPECT_NE(c1->token, c1->id);
  EXPECT_EQ(c1->id.size(), 22u);
  EXPECT_EQ(hub->find(c1->token), c1);
  EXPECT_EQ(hub->find(c1->id), nullptr);
}

}  // namespace
}  // namespace tether::realtime

namespace tether::realtime {
namespace {

// A connection whose bearer token's exp is `exp_from_now` seconds away,
// handshaken, on a hub with `close_on_expiry`; keep-alive pings every tick
// show that the hub's once-a-second tick ran.
struct Expiring {
  boost::asio::io_context io;
  std::shared_ptr<Hub> hub;
  std::shared_ptr<Connection> c;
  Expiring(bool close_on_expiry, std::int64_t exp_from_now) {
    const std::string secret(40, 's');
    net::JwtConfig config;
    config.hs256_secret = secret;
    HubOptions o;
    o.jwt = std::make_shared<net::JwtValidator>(config);
    o.close_on_token_expiry = close_on_expiry;
    o.keep_alive = std::chrono::milliseconds(1);
    hub = Hub::create(nullptr, o);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    // Within the validator's 60 s leeway: accepted, though exp has passed.
    auto token = net::sign_hs256({{"sub", "ann"}, {"exp", now + exp_from_now}}, secret);
    http::Request req;
    req.target("/hub?access_token=" + token);
    c = hub->create_connection(io.get_executor(), 1, req);
    c->transport = TransportKind::websockets;
    hub->receive(c, "{\"protocol\":\"json\",\"version\":1}\x1e");
    EXPECT_EQ(c->take_output(), "{}\x1e");
  }
  // Runs the hub's ticks until `c` closes or has been pinged (a tick ran).
  void run_until_closed_or_pinged() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!c->closing && c->output.empty() && std::chrono::steady_clock::now() < deadline)
      io.run_one_for(std::chrono::milliseconds(100));
  }
};

TEST(HubTokenExpiry, AnExpiredTokenClosesTheConnectionWhenConfigured) {
  Expiring on(true, -5);
  EXPECT_EQ(on.c->user, "ann");
  on.run_until_closed_or_pinged();
  ASSERT_TRUE(on.c->closing);
  EXPECT_EQ(on.c->take_output(),
            "{\"type\":7,\"error\":\"Connection closed with an error. The access token "
            "expired.\"}\x1e");

  Expiring off(false, -5);  // the same token, the option off: ticks pass, it stays
  off.run_until_closed_or_pinged();
  EXPECT_FALSE(off.c->closing);
  EXPECT_EQ(off.c->take_output(), "{\"type\":6}\x1e");

  Expiring later(true, 3600);  // not expired yet: it stays
  later.run_until_closed_or_pinged();
  EXPECT_FALSE(later.c->closing);
}

TEST(HubBackplaneRefusal, ARefusedSendFailsTheInvocationNeverASuccess) {
  // Scenario (issue 16 part 5): a hub method sends to all while the
  // backplane's window is full. The caller gets a Completion with an error
  // (not the success it used to get), the refusal is counted, and a method
  // that sends nothing still succeeds.
  boost::asio::io_context io;
  testing::FakeBackplane backplane(io.get_executor(), /*refuse=*/true);
  auto hub = Hub::create(&backplane, {});
  hub->on("Say", [](Hub::Caller& c, json::array& a) -> json::value {
    c.hub.send_all("Said", a);
    return "sent";
  });
  hub->on("Join", [](Hub::Caller& c, json::array&) -> json::value {
    c.hub.add_to_group("a-connection-elsewhere", "g");  // by way of the backplane
    return nullptr;
  });
  hub->on("Quiet", [](Hub::Caller&, json::array&) -> json::value { return 1; });
  hub->on_stream("Stream", [](Hub::Caller& c, json::array&) -> json::array {
    c.hub.send_group("g", "Said", {});
    return {1};
  });
  http::Request req;
  req.target("/hub");
  auto c = hub->create_connection(io.get_executor(), 1, req);
  c->transport = TransportKind::websockets;
  hub->receive(c, "{\"protocol\":\"json\",\"version\":1}\x1e");
  c->take_output();

  hub->receive(c,
               "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Say\",\"arguments\":[\"x\"]}\x1e");
  auto out = c->take_output();
  EXPECT_NE(out.find("\"invocationId\":\"1\",\"error\":"), std::string::npos) << out;
  EXPECT_NE(out.find("window_full"), std::string::npos) << out;
  EXPECT_EQ(out.find("sent"), std::string::npos) << out;
  EXPECT_EQ(hub->stats().publish_failures, 1u);
  EXPECT_EQ(hub->stats().invocation_errors, 1u);

  hub->receive(c, "{\"type\":1,\"invocationId\":\"2\",\"target\":\"Join\",\"arguments\":[]}\x1e");
  EXPECT_NE(c->take_output().find("\"invocationId\":\"2\",\"error\":"), std::string::npos);
  hub->receive(c, "{\"type\":4,\"invocationId\":\"3\",\"target\":\"Stream\",\"arguments\":[]}\x1e");
  out = c->take_output();
  EXPECT_NE(out.find("\"invocationId\":\"3\",\"error\":"), std::string::npos) << out;
  EXPECT_EQ(out.find("\"item\""), std::string::npos) << out;

  hub->receive(c, "{\"type\":1,\"invocationId\":\"4\",\"target\":\"Quiet\",\"arguments\":[]}\x1e");
  EXPECT_EQ(c->take_output(), "{\"type\":3,\"invocationId\":\"4\",\"result\":1}\x1e");
  EXPECT_FALSE(hub->send_all("Direct", {}));  // outside a method: the return value says so
  EXPECT_EQ(hub->stats().publish_failures, 4u);
}

}  // namespace
}  // namespace tether::realtime
