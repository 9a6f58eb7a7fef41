#pragma once
// Azure SignalR Service's data-plane REST API (serverless mode, version
// 2022-06-01, and the older v1 paths) served by tether, so that a server in
// any language messages a plan's SignalR clients with the HTTP calls it
// would make to Azure (docs/realtime.md, "REST API (any server language)"):
//   POST   /api/hubs/{hub}/:send                      all (?excluded=<id>...)
//   POST   /api/hubs/{hub}/users/{user}/:send         every connection of a user
//   POST   /api/hubs/{hub}/connections/{id}/:send     one connection
//   POST   /api/hubs/{hub}/groups/{group}/:send       a group (?excluded=...)
//   PUT    /api/hubs/{hub}/groups/{group}/connections/{id}   add (404: no such connection)
//   DELETE /api/hubs/{hub}/groups/{group}/connections/{id}   remove (the same)
//   DELETE /api/hubs/{hub}/connections/{id}/groups    remove from every group
//   PUT    /api/hubs/{hub}/users/{user}/groups/{group}        the user's connections
//   DELETE /api/hubs/{hub}/users/{user}/groups/{group}
//   DELETE /api/hubs/{hub}/users/{user}/groups
//   DELETE /api/hubs/{hub}/connections/{id}?reason=   close it
//   HEAD   /api/hubs/{hub}/connections/{id} | users/{user} | groups/{group}
//          | users/{user}/groups/{group}              200 exists, 404 not
//   HEAD   /api/health                                200
// The same under /api/v1/hubs/, plus v1's own forms (POST /api/v1/hubs/{hub},
// .../users/{user}, .../connections/{id}, .../groups/{group}; GET for the
// existence checks; .../groups/{group}/users/{user}). Any api-version.
// Sends reach every instance through the hub's backplane; 202, or 503 when
// the backplane refuses. Auth: Authorization: Bearer <HS256 JWT> signed with
// the access key, with `exp` and an `aud` naming the request's URL (its path
// is compared: any scheme and host, as a plan is reached on varying hosts).
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include "tether/host/router.hpp"
#include "tether/realtime/hub.hpp"

namespace tether::realtime {

struct RestApiOptions {
  // The connection string's AccessKey: the HS256 key (its UTF-8 bytes, as
  // Azure's SDKs use it) of the bearer tokens; at least 32 characters.
  // Empty (or too short): every call but /api/health answers 503 with
  // `unconfigured_hint`.
  std::string access_key;
  // Said in the 503 when there is no usable key: how to set one.
  std::string unconfigured_hint = "the REST API has no access key configured";
  // A larger request body answers 413.
  std::size_t max_body_bytes = 1'000'000;
  // How long each other instance may take to answer an existence check
  // (HEAD, and the check before adding a connection to a group); no answer
  // in time is 503.
  std::chrono::milliseconds presence_timeout{3'000};
};

// Serves the REST API for `hubs`, keyed by the name REST calls use (matched
// case-insensitively, as Azure lowercases hub names). Call it on every
// instance of the plan: each answers the calls that reach it.
void map_rest_api(host::Router& router, std::map<std::string, std::shared_ptr<Hub>> hubs,
                  RestApiOptions options);

// ---- the pure parts (tests/unit/realtime/rest_api_test.cpp) ----

enum class RestAction {
  health,
  send_all,
  send_user,
  send_connection,
  send_group,
  add_connection_to_group,
  remove_connection_from_group,
  remove_connection_from_all_groups,
  add_user_to_group,
  remove_user_from_group,
  remove_user_from_all_groups,
  close_connection,
  connection_exists,
  user_exists,
  group_exists,
  user_in_group_exists,
};

struct RestRoute {
  RestAction action = RestAction::health;
  std::string hub, connection, user, group;  // percent-decoded
};

struct RestParse {
  std::optional<RestRoute> route;
  unsigned status = 0;  // when no route: 404 (no such API), 405 (another method's), 400
  std::string error;    // why, for the response
};

// `path` (without the query string, still percent-encoded) and `method` as
// one of the calls above. 400 for a hub name that does not start with a
// letter or has other characters than letters, digits and '_', an empty
// name, a group name over 1024 characters or a bad %-escape.
RestParse parse_rest_path(boost::beast::http::verb method, std::string_view path);

// Whether a token's `aud` claim (a string, or an array holding one) names
// the URL whose path is `path`: an absolute URL (any scheme and host) or a
// bare path, compared percent-decoded, case-insensitively, without query
// string or trailing slash. Null `aud`: false.
bool audience_matches(const boost::json::value* aud, std::string_view path);

// RFC 3986 %XX decoding ('+' stays '+'); nullopt for a bad escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace tether::realtime
