// Azure SignalR Service's data-plane REST API on tether's hubs (see
// rest_api.hpp and docs/realtime.md, "REST API (any server language)").
// One request: parse the path -> the access key configured? (503) -> the
// bearer token (401) -> the names (400) -> the hub (404) -> the body (413,
// 400) -> an existence check across instances where the call needs one ->
// the Hub call (503 when the backplane refuses) -> 200 / 202.
#include "tether/realtime/rest_api.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>

#include "tether/net/jwt.hpp"
#include "tether/net/log.hpp"

namespace tether::realtime {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Verb = bhttp::verb;

namespace {

auto& log() {
  static auto l = net::logger("realtime.rest");
  return l;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool valid_hub_name(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

constexpr std::size_t kMaxName = 1024;

// One path shape after /api/[v1/]hubs/{hub}, and what each method does there.
struct Shape {
  std::vector<std::string_view> segments;  // "{c}", "{u}", "{g}": captures
  std::optional<RestAction> post, put, del, get;
};

const std::vector<Shape>& shapes() {
  using A = RestAction;
  static const std::vector<Shape> all = {
      {{":send"}, A::send_all, {}, {}, {}},
      {{}, A::send_all, {}, {}, {}},  // v1
      {{"users", "{u}", ":send"}, A::send_user, {}, {}, {}},
      {{"users", "{u}"}, A::send_user, {}, {}, A::user_exists},
      {{"connections", "{c}", ":send"}, A::send_connection, {}, {}, {}},
      {{"connections", "{c}"}, A::send_connection, {}, A::close_connection, A::connection_exists},
      {{"connections", "{c}", "groups"}, {}, {}, A::remove_connection_from_all_groups, {}},
      {{"groups", "{g}", ":send"}, A::send_group, {}, {}, {}},
      {{"groups", "{g}"}, A::send_group, {}, {}, A::group_exists},
      {{"groups", "{g}", "connections", "{c}"},
       {},
       A::add_connection_to_group,
       A::remove_connection_from_group,
       {}},
      {{"users", "{u}", "groups", "{g}"},
       {},
       A::add_user_to_group,
       A::remove_user_from_group,
       A::user_in_group_exists},
      {{"groups", "{g}", "users", "{u}"},  // v1
       {},
       A::add_user_to_group,
       A::remove_user_from_group,
       A::user_in_group_exists},
      {{"users", "{u}", "groups"}, {}, {}, A::remove_user_from_all_groups, {}},
  };
  return all;
}

std::optional<RestAction> for_method(const Shape& s, Verb m) {
  switch (m) {
    case Verb::post: return s.post;
    case Verb::put: return s.put;
    case Verb::delete_: return s.del;
    case Verb::get:
    case Verb::head: return s.get;
    default: return std::nullopt;
  }
}

// The path without query string or trailing slashes, decoded, lowercased.
std::string normalized(std::string_view p) {
  if (auto q = p.find_first_of("?#"); q != std::string_view::npos) p = p.substr(0, q);
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  auto decoded = percent_decode(p);
  return lower(decoded ? *decoded : std::string(p));
}

// ---- serving ----

struct RestState {
  std::map<std::string, std::shared_ptr<Hub>> hubs;  // by lowercased name
  RestApiOptions options;
  std::unique_ptr<net::JwtValidator> jwt;  // null: no usable key
  std::string unusable;                    // why not
};

void fail(host::Context& ctx, unsigned status, std::string_view code, const std::string& message) {
  log()->info("REST {} {}: {} {}", std::string(bhttp::to_string(ctx.request.method())),
              std::string(ctx.path()), status, message);
  if (ctx.request.method() == Verb::head) {
    ctx.reply(status, "", "text/plain");
    return;
  }
  json::object o;
  o["code"] = code;
  o["message"] = message;
  ctx.reply(status, json::serialize(o) + "\n", "application/json");
}

// Why the request's bearer token is refused, or empty when it is good.
std::string refusal(const RestState& s, host::Context& ctx) {
  std::string_view auth = ctx.request[bhttp::field::authorization];
  if (auth.size() <= 7 || !beast::iequals(auth.substr(0, 7), "Bearer "))
    return "an Authorization: Bearer <token> header is required (a JWT signed with the "
           "connection string's AccessKey)";
  auto check = s.jwt->check(auth.substr(7));
  if (!check.ok) return "the bearer token was refused: " + check.error;
  if (!audience_matches(check.claims.if_contains("aud"), ctx.path()))
    return "the bearer token's aud does not name this URL (it must be the request URL "
           "without its query string)";
  return {};
}

// A send's body: {"target": "...", "arguments": [...]} (names matched
// case-insensitively, as Azure's JSON reader does; no arguments: none).
bool parse_payload(std::string_view body, std::string& target, json::array& args,
                   std::string& error) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    error = "the body must be a JSON object {\"target\": \"...\", \"arguments\": [...]}";
    return false;
  }
  const json::value* t = nullptr;
  const json::value* a = nullptr;
  for (const auto& kv : v.as_object()) {
    if (beast::iequals(kv.key(), "target")) t = &kv.value();
    if (beast::iequals(kv.key(), "arguments")) a = &kv.value();
  }
  if (!t || !t->is_string() || t->as_string().empty()) {
    error = "the body's \"target\" must be a non-empty string";
    return false;
  }
  if (a && !a->is_null() && !a->is_array()) {
    error = "the body's \"arguments\" must be an array";
    return false;
  }
  target = std::string(t->as_string());
  args = a && a->is_array() ? a->as_array() : json::array();
  return true;
}

// The existence check a call needs before (or as) its answer.
std::optional<Hub::Presence> presence_for(const RestRoute& r, std::string& name) {
  using A = RestAction;
  switch (r.action) {
    case A::connection_exists:
    case A::add_connection_to_group:
    case A::remove_connection_from_group: name = r.connection; return Hub::Presence::connection;
    case A::user_exists: name = r.user; return Hub::Presence::user;
    case A::group_exists: name = r.group; return Hub::Presence::group;
    case A::user_in_group_exists: name = r.user; return Hub::Presence::user_in_group;
    default: return std::nullopt;
  }
}

// Runs a call that needs no (more) waiting; answers it.
void perform(Hub& hub, const RestRoute& r, host::Context& ctx) {
  using A = RestAction;
  std::vector<std::string> excluded;
  std::string reason;
  if (auto parsed = boost::urls::parse_origin_form(ctx.request.target())) {
    for (auto p : parsed->params()) {
      if (p.key == "excluded" && !p.value.empty()) excluded.push_back(p.value);
      if (p.key == "reason") reason = p.value;
    }
  }
  const bool is_send = r.action == A::send_all || r.action == A::send_user ||
                       r.action == A::send_connection || r.action == A::send_group;
  std::string target;
  json::array args;
  if (is_send) {
    std::string error;
    if (!parse_payload(ctx.request.body(), target, args, error))
      return fail(ctx, 400, "BadRequest", error);
  }
  bool ok = true;
  switch (r.action) {
    case A::send_all: ok = hub.send_all(target, args, excluded); break;
    case A::send_user: ok = hub.send_user(r.user, target, args); break;
    case A::send_connection: ok = hub.send_connection(r.connection, target, args); break;
    case A::send_group: ok = hub.send_group(r.group, target, args, excluded); break;
    case A::add_connection_to_group: ok = hub.add_to_group(r.connection, r.group); break;
    case A::remove_connection_from_group: ok = hub.remove_from_group(r.connection, r.group); break;
    case A::remove_connection_from_all_groups: ok = hub.remove_from_all_groups(r.connection); break;
    case A::add_user_to_group: ok = hub.add_user_to_group(r.user, r.group); break;
    case A::remove_user_from_group: ok = hub.remove_user_from_group(r.user, r.group); break;
    case A::remove_user_from_all_groups: ok = hub.remove_user_from_all_groups(r.user); break;
    case A::close_connection: ok = hub.close_connection(r.connection, reason); break;
    default: break;  // existence checks: answered by the caller
  }
  if (!ok)
    return fail(ctx, 503, "ServiceUnavailable",
                "the backplane refused the message (its window is full or it is stopping); "
                "try again");
  log()->debug("REST {} {}: done", std::string(bhttp::to_string(ctx.request.method())),
               std::string(ctx.path()));
  ctx.reply(is_send ? 202 : 200, "", "text/plain");
}

asio::awaitable<void> serve(std::shared_ptr<const RestState> s, host::Context& ctx) {
  auto parsed = parse_rest_path(ctx.request.method(), ctx.path());
  if (parsed.route && parsed.route->action == RestAction::health) {
    ctx.reply(200, "", "text/plain");
    co_return;
  }
  if (!parsed.route && parsed.status != 400) {
    fail(ctx, parsed.status, parsed.status == 405 ? "MethodNotAllowed" : "NotFound", parsed.error);
    co_return;
  }
  if (!s->jwt) {
    fail(ctx, 503, "NotConfigured", s->unusable);
    co_return;
  }
  if (auto why = refusal(*s, ctx); !why.empty()) {
    ctx.response.set(bhttp::field::www_authenticate, "Bearer");
    fail(ctx, 401, "Unauthorized", why);
    co_return;
  }
  if (!parsed.route) {
    fail(ctx, 400, "BadRequest", parsed.error);
    co_return;
  }
  const RestRoute& r = *parsed.route;
  auto it = s->hubs.find(lower(r.hub));
  if (it == s->hubs.end()) {
    fail(ctx, 404, "NotFound", "no hub named \"" + r.hub + "\" here");
    co_return;
  }
  if (ctx.request.body().size() > s->options.max_body_bytes) {
    fail(ctx, 413, "PayloadTooLarge",
         "the body is over " + std::to_string(s->options.max_body_bytes) + " bytes");
    co_return;
  }
  std::shared_ptr<Hub> hub = it->second;
  std::string name;
  if (auto what = presence_for(r, name)) {
    std::string group = r.group;
    auto found =
        co_await Hub::present_anywhere(hub, *what, name, group, s->options.presence_timeout);
    if (!found) {
      fail(ctx, 503, "ServiceUnavailable",
           "an instance did not answer the existence check; try again");
      co_return;
    }
    const bool check_only =
        r.action == RestAction::connection_exists || r.action == RestAction::user_exists ||
        r.action == RestAction::group_exists || r.action == RestAction::user_in_group_exists;
    if (!*found) {
      fail(ctx, 404, "NotFound", check_only ? "not found" : "no such connection");
      co_return;
    }
    if (check_only) {
      ctx.reply(200, "", "text/plain");
      co_return;
    }
  }
  perform(*hub, r, ctx);
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
  auto pct = boost::urls::make_pct_string_view(s);
  if (!pct) return std::nullopt;
  return pct->decode();
}

RestParse parse_rest_path(Verb method, std::string_view path) {
  RestParse out;
  auto segs = host::split_path(path);
  auto none = [&](unsigned status, std::string error) {
    out.status = status;
    out.error = std::move(error);
    return out;
  };
  std::size_t i = 1;
  if (segs.empty() || segs[0] != "api") return none(404, "no such REST API");
  if (segs.size() > i && segs[i] == "v1") ++i;
  if (segs.size() == i + 1 && segs[i] == "health") {
    if (method != Verb::get && method != Verb::head) return none(405, "health takes HEAD or GET");
    out.route = RestRoute{};
    return out;
  }
  if (segs.size() < i + 2 || segs[i] != "hubs") return none(404, "no such REST API");
  const std::string_view raw_hub = segs[i + 1];
  std::vector<std::string_view> rest(segs.begin() + static_cast<std::ptrdiff_t>(i + 2), segs.end());
  for (const auto& shape : shapes()) {
    if (shape.segments.size() != rest.size()) continue;
    RestRoute r;
    bool match = true;
    std::string bad;
    for (std::size_t k = 0; k < rest.size() && match; ++k) {
      auto want = shape.segments[k];
      if (want.size() == 3 && want.front() == '{') {
        auto value = percent_decode(rest[k]);
        if (!value || value->empty()) {
          bad = "a name in the path is not valid percent-encoding";
          continue;
        }
        if (value->size() > kMaxName) bad = "a name in the path is over 1024 characters";
        (want[1] == 'c' ? r.connection : want[1] == 'u' ? r.user : r.group) = std::move(*value);
      } else {
        match = rest[k] == want;
      }
    }
    if (!match) continue;
    auto action = for_method(shape, method);
    if (!action)
      return none(405, "this REST API path does not take " + std::string(bhttp::to_string(method)));
    auto hub = percent_decode(raw_hub);
    if (!hub || !valid_hub_name(*hub))
      return none(400,
                  "the hub name must start with a letter and hold only letters, digits and '_'");
    if (!bad.empty()) return none(400, bad);
    r.action = *action;
    r.hub = std::move(*hub);
    out.route = std::move(r);
    return out;
  }
  return none(404, "no such REST API");
}

bool audience_matches(const json::value* aud, std::string_view path) {
  if (!aud) return false;
  const std::string want = normalized(path);
  auto one = [&](const json::value& v) {
    if (!v.is_string()) return false;
    std::string_view a = v.as_string();
    if (auto scheme = a.find("://"); scheme != std::string_view::npos) {
      auto slash = a.find('/', scheme + 3);
      if (slash == std::string_view::npos) return false;
      a = a.substr(slash);
    }
    return !a.empty() && a.front() == '/' && normalized(a) == want;
  };
  if (aud->is_array()) return std::any_of(aud->as_array().begin(), aud->as_array().end(), one);
  return one(*aud);
}

void map_rest_api(host::Router& router, std::map<std::string, std::shared_ptr<Hub>> hubs,
                  RestApiOptions options) {
  auto state = std::make_shared<RestState>();
  for (auto& [name, hub] : hubs) state->hubs[lower(name)] = hub;
  if (options.access_key.empty()) {
    state->unusable = options.unconfigured_hint;
  } else {
    try {
      net::JwtConfig config;
      config.hs256_secret = options.access_key;
      state->jwt = std::make_unique<net::JwtValidator>(std::move(config));
    } catch (const std::invalid_argument&) {
      state->unusable = "the REST API's access key is too short (at least 32 characters; " +
                        options.unconfigured_hint + ")";
      log()->error("REST API: {}", state->unusable);
    }
  }
  state->options = std::move(options);
  std::shared_ptr<const RestState> s = state;
  for (auto verb : {Verb::post, Verb::put, Verb::delete_, Verb::get, Verb::head})
    for (const char* pattern : {"/api/hubs/*", "/api/v1/hubs/*", "/api/health", "/api/v1/health"})
      router.add_async(verb, pattern, [s](host::Context& c) { return serve(s, c); });
}

}  // namespace tether::realtime
