// The REST API's pure parts (realtime/rest_api.hpp): Azure SignalR
// Service's paths (2022-06-01 and v1) to actions and names, the checks on
// names, and the `aud` claim matched against the request's path.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tether/realtime/rest_api.hpp"

namespace tether::realtime {
namespace {

namespace json = boost::json;
using Verb = boost::beast::http::verb;
using A = RestAction;

RestRoute route(Verb m, std::string_view path) {
  auto p = parse_rest_path(m, path);
  EXPECT_TRUE(p.route) << path << ": " << p.status << " " << p.error;
  return p.route.value_or(RestRoute{});
}

unsigned status(Verb m, std::string_view path) { return parse_rest_path(m, path).status; }

TEST(RestApiPath, SendsIn2022AndV1Forms) {
  for (const char* prefix : {"/api/hubs/chat", "/api/v1/hubs/chat"}) {
    std::string p = prefix;
    EXPECT_EQ(route(Verb::post, p + "/:send").action, A::send_all);
    auto u = route(Verb::post, p + "/users/ann%20b/:send");
    EXPECT_EQ(u.action, A::send_user);
    EXPECT_EQ(u.user, "ann b");
    EXPECT_EQ(u.hub, "chat");
    auto c = route(Verb::post, p + "/connections/abc-_1/:send");
    EXPECT_EQ(c.action, A::send_connection);
    EXPECT_EQ(c.connection, "abc-_1");
    auto g = route(Verb::post, p + "/groups/room%2F1/:send");
    EXPECT_EQ(g.action, A::send_group);
    EXPECT_EQ(g.group, "room/1");
  }
  // v1's own forms.
  EXPECT_EQ(route(Verb::post, "/api/v1/hubs/chat").action, A::send_all);
  EXPECT_EQ(route(Verb::post, "/api/v1/hubs/chat/users/u").action, A::send_user);
  EXPECT_EQ(route(Verb::post, "/api/v1/hubs/chat/groups/g").action, A::send_group);
  EXPECT_EQ(route(Verb::post, "/api/v1/hubs/chat/connections/c").action, A::send_connection);
}

TEST(RestApiPath, GroupsClosesAndExistenceChecks) {
  const std::string p = "/api/hubs/Chat_2";
  auto add = route(Verb::put, p + "/groups/g/connections/c");
  EXPECT_EQ(add.action, A::add_connection_to_group);
  EXPECT_EQ(add.group, "g");
  EXPECT_EQ(add.connection, "c");
  EXPECT_EQ(add.hub, "Chat_2");
  EXPECT_EQ(route(Verb::delete_, p + "/groups/g/connections/c").action,
            A::remove_connection_from_group);
  EXPECT_EQ(route(Verb::delete_, p + "/connections/c/groups").action,
            A::remove_connection_from_all_groups);
  EXPECT_EQ(route(Verb::put, p + "/users/u/groups/g").action, A::add_user_to_group);
  EXPECT_EQ(route(Verb::put, "/api/v1/hubs/h/groups/g/users/u").action, A::add_user_to_group);
  EXPECT_EQ(route(Verb::delete_, p + "/users/u/groups/g").action, A::remove_user_from_group);
  EXPECT_EQ(route(Verb::delete_, p + "/users/u/groups").action, A::remove_user_from_all_groups);
  EXPECT_EQ(route(Verb::delete_, p + "/connections/c").action, A::close_connection);
  EXPECT_EQ(route(Verb::head, p + "/connections/c").action, A::connection_exists);
  EXPECT_EQ(route(Verb::get, p + "/connections/c").action, A::connection_exists);
  EXPECT_EQ(route(Verb::head, p + "/users/u").action, A::user_exists);
  EXPECT_EQ(route(Verb::head, p + "/groups/g").action, A::group_exists);
  EXPECT_EQ(route(Verb::head, p + "/users/u/groups/g").action, A::user_in_group_exists);
  EXPECT_EQ(route(Verb::head, "/api/health").action, A::health);
  EXPECT_EQ(route(Verb::get, "/api/v1/health").action, A::health);
  // A trailing slash is the same path.
  EXPECT_EQ(route(Verb::post, p + "/:send/").action, A::send_all);
}

TEST(RestApiPath, RefusalsSayWhy) {
  EXPECT_EQ(status(Verb::post, "/api/hubs/chat/nothing/:send"), 404u);
  EXPECT_EQ(status(Verb::post, "/api/hubs"), 404u);
  EXPECT_EQ(status(Verb::post, "/other"), 404u);
  EXPECT_EQ(status(Verb::put, "/api/hubs/chat/:send"), 405u);
  EXPECT_EQ(status(Verb::post, "/api/hubs/chat/groups/g/connections/c"), 405u);
  // Hub names: a letter first, then letters, digits, '_'.
  EXPECT_EQ(status(Verb::post, "/api/hubs/1chat/:send"), 400u);
  EXPECT_EQ(status(Verb::post, "/api/hubs/ch-at/:send"), 400u);
  EXPECT_EQ(status(Verb::post, "/api/hubs/ch%2Fat/:send"), 400u);
  // Bad escapes, names too long.
  EXPECT_EQ(status(Verb::post, "/api/hubs/chat/groups/%zz/:send"), 400u);
  EXPECT_EQ(status(Verb::post, "/api/hubs/chat/groups/%4/:send"), 400u);
  EXPECT_EQ(status(Verb::post, "/api/hubs/chat/groups/" + std::string(1025, 'g') + "/:send"), 400u);
  EXPECT_FALSE(parse_rest_path(Verb::post, "/api/hubs/chat/groups/%zz/:send").error.empty());
  EXPECT_TRUE(
      parse_rest_path(Verb::post, "/api/hubs/chat/groups/" + std::string(1024, 'g') + "/:send")
          .route);
}

TEST(RestApiAudience, MatchesThePathOnAnyHost) {
  const std::string path = "/api/hubs/chat/users/ann/:send";
  auto aud = [](const char* s) { return json::value(s); };
  json::value a = aud("https://example.service.signalr.net/api/hubs/chat/users/ann/:send");
  EXPECT_TRUE(audience_matches(&a, path));
  a = aud("http://127.0.0.1:8080/api/hubs/chat/users/ann/:send");
  EXPECT_TRUE(audience_matches(&a, path));
  a = aud("/api/hubs/chat/users/ann/:send");  // a bare path
  EXPECT_TRUE(audience_matches(&a, path));
  // Query string, trailing slash, case and %-encoding do not matter.
  a = aud("http://h/api/hubs/CHAT/users/ann/:send?api-version=2022-06-01");
  EXPECT_TRUE(audience_matches(&a, path));
  a = aud("http://h/api/hubs/chat/users/%61nn/:send/");
  EXPECT_TRUE(audience_matches(&a, path));
  // An array holding it.
  json::value arr = json::array{"http://h/other", "http://h/api/hubs/chat/users/ann/:send"};
  EXPECT_TRUE(audience_matches(&arr, path));
}

TEST(RestApiAudience, OtherPathsAndShapesAreRefused) {
  const std::string path = "/api/hubs/chat/users/ann/:send";
  json::value a = "http://h/api/hubs/chat/users/bob/:send";
  EXPECT_FALSE(audience_matches(&a, path));
  a = "http://h/api/hubs/chat/:send";
  EXPECT_FALSE(audience_matches(&a, path));
  a = "http://h";
  EXPECT_FALSE(audience_matches(&a, path));
  a = "api/hubs/chat/users/ann/:send";  // neither a URL nor a path
  EXPECT_FALSE(audience_matches(&a, path));
  a = 42;
  EXPECT_FALSE(audience_matches(&a, path));
  json::value arr = json::array{"http://h/other"};
  EXPECT_FALSE(audience_matches(&arr, path));
  EXPECT_FALSE(audience_matches(nullptr, path));
}

TEST(RestApiPercent, DecodesAndRefusesBadEscapes) {
  EXPECT_EQ(percent_decode("a%20b%2Fc+d"), "a b/c+d");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("%g0"));
}

}  // namespace
}  // namespace tether::realtime
