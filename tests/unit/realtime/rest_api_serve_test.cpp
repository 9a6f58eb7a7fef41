// The REST API served on a Router (realtime::map_rest_api) without sockets:
// a send is published on the hub's backplane (202), or answered 503 when the
// backplane refuses it; no key, a short key, no token, an unknown hub, and
// existence checks and group adds for connections that are or are not here.
#include <chrono>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "realtime/fake_backplane.hpp"
#include "realtime/handshaken.hpp"
#include "tether/net/jwt.hpp"
#include "tether/realtime/rest_api.hpp"

namespace tether::realtime {
namespace {

namespace json = boost::json;
using Verb = boost::beast::http::verb;

const std::string kKey = "0123456789abcdef0123456789abcdef0123456789a=";  // 44 characters

struct Served {
  http::Response response;

  // `token`: "" for none, "good" for one signed with kKey for this URL.
  void call(const host::Router& router, Verb method, const std::string& target,
            std::string body = {}, std::string token = "good") {
    http::Request request{method, target, 11};
    request.body() = std::move(body);
    if (token == "good") {
      auto now = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
      json::object claims;
      claims["aud"] = "http://example:1234" + target.substr(0, target.find('?'));
      claims["exp"] = now + 60;
      token = net::sign_hs256(claims, kKey);
    }
    if (!token.empty()) request.set(boost::beast::http::field::authorization, "Bearer " + token);
    http::ConnectionInfo connection;
    host::InstanceInfo instance{"test-instance", 1};
    host::Context ctx{request, response, connection, instance, {}, nullptr, nullptr};
    boost::asio::io_context io;
    auto done = boost::asio::co_spawn(io, router.dispatch(ctx), boost::asio::use_future);
    io.run();
    done.get();
  }
  unsigned status() const { return response.result_int(); }
};

const std::string kSend = R"({"target":"Got","arguments":[1,"two"]})";

TEST(RestApiServe, ASendIsPublished) {
  boost::asio::io_context io;
  testing::FakeBackplane backplane(io.get_executor());
  HubOptions o;
  o.name = "h";
  auto hub = Hub::create(&backplane, o);
  host::Router router;
  map_rest_api(router, {{"Chat", hub}}, RestApiOptions{kKey});
  backplane.published.clear();
  Served s;
  s.call(router, Verb::post, "/api/hubs/chat/:send?api-version=2022-06-01&excluded=a&excluded=b",
         kSend);
  EXPECT_EQ(s.status(), 202u) << s.response.body();
  ASSERT_EQ(backplane.published.size(), 1u);
  EXPECT_EQ(backplane.published[0].first, "signalr/h/all");
  EXPECT_EQ(json::parse(backplane.published[0].second),
            json::parse(R"({"t":"Got","a":[1,"two"],"x":["a","b"]})"));
  s.call(router, Verb::post, "/api/hubs/chat/groups/g%201/:send", kSend);
  EXPECT_EQ(s.status(), 202u);
  EXPECT_EQ(backplane.published.back().first, "signalr/h/group/g 1");
}

TEST(RestApiServe, ARefusedSendIs503) {
  boost::asio::io_context io;
  testing::FakeBackplane backplane(io.get_executor(), /*refuse=*/true);
  auto hub = Hub::create(&backplane, {});
  host::Router router;
  map_rest_api(router, {{"chat", hub}}, RestApiOptions{kKey});
  Served s;
  for (const char* path : {"/api/hubs/chat/:send", "/api/hubs/chat/users/u/:send",
                           "/api/hubs/chat/groups/g/:send", "/api/v1/hubs/chat"}) {
    s.call(router, Verb::post, path, kSend);
    EXPECT_EQ(s.status(), 503u) << path;
    EXPECT_NE(s.response.body().find("ServiceUnavailable"), std::string::npos);
  }
  s.call(router, Verb::delete_, "/api/hubs/chat/connections/elsewhere?reason=x");
  EXPECT_EQ(s.status(), 503u);
  s.call(router, Verb::put, "/api/hubs/chat/users/u/groups/g");
  EXPECT_EQ(s.status(), 503u);
}

TEST(RestApiServe, KeysTokensAndHubs) {
  auto hub = Hub::create(nullptr, {});
  Served s;
  {
    host::Router router;
    RestApiOptions o;
    o.unconfigured_hint = "set THE_KEY";
    map_rest_api(router, {{"chat", hub}}, o);
    s.call(router, Verb::post, "/api/hubs/chat/:send", kSend);
    EXPECT_EQ(s.status(), 503u);
    EXPECT_NE(s.response.body().find("set THE_KEY"), std::string::npos);
    s.call(router, Verb::head, "/api/health", {}, "");
    EXPECT_EQ(s.status(), 200u);
  }
  {
    host::Router router;
    map_rest_api(router, {{"chat", hub}}, RestApiOptions{"short"});
    s.call(router, Verb::post, "/api/hubs/chat/:send", kSend);
    EXPECT_EQ(s.status(), 503u);
    EXPECT_NE(s.response.body().find("too short"), std::string::npos);
  }
  host::Router router;
  RestApiOptions o{kKey};
  o.max_body_bytes = 100;
  map_rest_api(router, {{"chat", hub}}, o);
  s.call(router, Verb::post, "/api/hubs/chat/:send", kSend, "");
  EXPECT_EQ(s.status(), 401u);
  EXPECT_EQ(s.response[boost::beast::http::field::www_authenticate], "Bearer");
  s.call(router, Verb::post, "/api/hubs/chat/:send", kSend, "not.a.token");
  EXPECT_EQ(s.status(), 401u);
  s.call(router, Verb::post, "/api/hubs/other/:send", kSend);
  EXPECT_EQ(s.status(), 404u);
  s.call(router, Verb::post, "/api/hubs/chat/:send", "{}");
  EXPECT_EQ(s.status(), 400u);
  s.call(router, Verb::post, "/api/hubs/chat/:send", std::string(101, ' '));
  EXPECT_EQ(s.status(), 413u);
  s.call(router, Verb::post, "/api/hubs/chat/:send", kSend);
  EXPECT_EQ(s.status(), 202u);
}

TEST(RestApiServe, ExistenceAndGroupsForConnectionsHere) {
  boost::asio::io_context io;
  auto hub = Hub::create(nullptr, {});
  auto c = testing::handshaken(*hub, io);
  host::Router router;
  map_rest_api(router, {{"chat", hub}}, RestApiOptions{kKey});
  Served s;
  s.call(router, Verb::head, "/api/hubs/chat/connections/" + c->id);
  EXPECT_EQ(s.status(), 200u);
  EXPECT_TRUE(s.response.body().empty());
  s.call(router, Verb::head, "/api/hubs/chat/connections/nope");
  EXPECT_EQ(s.status(), 404u);
  EXPECT_TRUE(s.response.body().empty());
  s.call(router, Verb::put, "/api/hubs/chat/groups/g/connections/nope");
  EXPECT_EQ(s.status(), 404u);
  s.call(router, Verb::put, "/api/hubs/chat/groups/g/connections/" + c->id);
  EXPECT_EQ(s.status(), 200u);
  EXPECT_EQ(c->groups, (std::set<std::string>{"g"}));
  s.call(router, Verb::get, "/api/hubs/chat/groups/g");
  EXPECT_EQ(s.status(), 200u);
  s.call(router, Verb::delete_, "/api/hubs/chat/connections/" + c->id + "/groups");
  EXPECT_EQ(s.status(), 200u);
  EXPECT_TRUE(c->groups.empty());
  s.call(router, Verb::delete_, "/api/hubs/chat/connections/" + c->id + "?reason=done");
  EXPECT_EQ(s.status(), 200u);
  EXPECT_TRUE(c->closing);
  EXPECT_NE(c->take_output().find("done"), std::string::npos);
}

}  // namespace
}  // namespace tether::realtime
