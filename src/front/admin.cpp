#include "tether/front/admin.hpp"

#include <unordered_map>

#include <boost/asio/ip/address.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "dashboard_html.hpp"
#include "tether/front/metrics.hpp"
#include "tether/net/log.hpp"

namespace tether::front {

namespace json = boost::json;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t kMinPrefix = 4;

void reply_json(host::Context& c, unsigned status, const json::object& o) {
  c.reply(status, json::serialize(o) + "\n", "application/json");
  c.response.set(bhttp::field::cache_control, "no-store");
}

// Percent-decodes a path segment ("%2F" -> "/"); malformed escapes stay as is.
std::string pct_decode(std::string_view s) {
  auto hex = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

// "host:port" or "[v6]:port" -> host part.
std::string_view host_part(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

// Without a token, a browser could still be steered here by a name that
// resolves to loopback (DNS rebinding): accept only IP literals and localhost
// as the Host. Clients that send no Host (HTTP/1.0) are not browsers.
bool trusted_host(const http::Request& req) {
  auto host = host_part(req[bhttp::field::host]);
  if (host.empty() || host == "localhost") return true;
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

// A POST from a browser carries Origin; it must be this endpoint itself.
// Non-browser clients (curl, `tether drain`) send no Origin.
bool same_origin(const http::Request& req) {
  auto origin = req[bhttp::field::origin];
  if (origin.empty()) return true;
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;
  return origin.substr(scheme_end + 3) == req[bhttp::field::host];
}

void dashboard(host::Context& c) {
  c.reply(200, std::string(dashboard_html()), "text/html; charset=utf-8");
  c.response.set(bhttp::field::cache_control, "no-store");
  // The page is self-contained: inline style and script, fetches to itself.
  c.response.set("Content-Security-Policy",
                 "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                 "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  c.response.set("X-Content-Type-Options", "nosniff");
  c.response.set("Referrer-Policy", "no-referrer");
}

void status(FrontServer* front, host::Context& c) { reply_json(c, 200, admin_status_json(*front)); }

void metrics(FrontServer* front, host::Context& c) {
  c.reply(200, render_metrics(admin_status_json(*front)), kMetricsContentType);
  c.response.set(bhttp::field::cache_control, "no-store");
}

void drain(FrontServer* front, bool on, host::Context& c) {
  auto id = pct_decode(c.params["id"]);
  auto outcome = set_draining(front->instances(), id, on);
  if (outcome.status == 200)
    net::logger("admin")->info("instance {} {}", std::string(outcome.body["instance"].as_string()),
                               on ? "draining: no new users, pinned users continue"
                                  : "undrained: takes new users again");
  reply_json(c, outcome.status, outcome.body);
}

// The admin endpoint's per-request gate, then the routes.
boost::asio::awaitable<void> serve_admin(const host::Router* router, std::string token,
                                         http::Exchange& ex) {
  if (!admin_authorized(ex.request, token)) {
    ex.response.result(bhttp::status::unauthorized);
    ex.response.set(bhttp::field::www_authenticate, "Bearer realm=\"tether admin\"");
    ex.response.set(bhttp::field::content_type, "application/json");
    ex.response.body() =
        "{\"error\":\"unauthorized: send Authorization: Bearer <front.admin.token> or "
        "?token=<front.admin.token>\"}\n";
    co_return;
  }
  if (token.empty() && !trusted_host(ex.request)) {
    ex.response.result(bhttp::status::forbidden);
    ex.response.set(bhttp::field::content_type, "application/json");
    ex.response.body() =
        "{\"error\":\"Host must be an IP address or localhost when front.admin.token is not "
        "set\"}\n";
    co_return;
  }
  if (ex.request.method() != bhttp::verb::get && ex.request.method() != bhttp::verb::head &&
      !same_origin(ex.request)) {
    ex.response.result(bhttp::status::forbidden);
    ex.response.set(bhttp::field::content_type, "application/json");
    ex.response.body() = "{\"error\":\"cross-origin admin request refused (Origin " +
                         json::serialize(json::string(ex.request[bhttp::field::origin])) +
                         " is not this endpoint)\"}\n";
    co_return;
  }
  co_await host::serve_routes(router, nullptr, ex);
}

}  // namespace

void add_admin_routes(host::Router& router, FrontServer* front, bool with_status) {
  router.get("/", dashboard);
  if (with_status) router.get("/status", [front](host::Context& c) { status(front, c); });
  router.get("/metrics", [front](host::Context& c) { metrics(front, c); });
  router.post("/instances/{id}/drain", [front](host::Context& c) { drain(front, true, c); });
  router.post("/instances/{id}/undrain", [front](host::Context& c) { drain(front, false, c); });
}

json::object admin_status_json(FrontServer& front) {
  auto out = front.status_json();
  auto snap = front.instances().snapshot();
  std::unordered_map<std::string_view, const Instance*> by_id;
  for (const auto& i : snap->instances) by_id.emplace(i->id, i.get());
  if (auto* list = out.if_contains("instances"); list && list->is_array()) {
    for (auto& v : list->as_array()) {
      if (!v.is_object()) continue;
      auto& o = v.as_object();
      auto* idv = o.if_contains("id");
      if (!idv || !idv->is_string()) continue;
      auto it = by_id.find(std::string_view(idv->as_string()));
      if (it == by_id.end()) continue;  // removed between the two snapshots
      const Instance& inst = *it->second;
      auto load = [](const auto& a) { return a.load(std::memory_order_relaxed); };
      o["pinned_requests"] = load(inst.pinned_requests);
      o["rebalanced_in"] = load(inst.rebalanced_in);
      o["rebalanced_out"] = load(inst.rebalanced_out);
      o["sessions_portable"] = inst.portable.load(std::memory_order_relaxed);
      json::object by_class;
      static constexpr const char* kClass[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
      for (std::size_t k = 0; k < inst.responses.size(); ++k)
        by_class[kClass[k]] = load(inst.responses[k]);
      o["responses"] = std::move(by_class);
      o["health_transitions"] = load(inst.health_transitions);
      std::int64_t open = load(inst.outstanding) + load(inst.tunnels);
      o["open_connections"] = open < 0 ? 0 : open;
    }
  }
  const auto& h = front.stats().latency;
  json::object lat;
  json::array bounds, counts;
  for (double b : LatencyHistogram::kBoundsMs) bounds.push_back(b);
  std::uint64_t total = 0;
  for (const auto& b : h.buckets) {
    auto n = b.load(std::memory_order_relaxed);
    total += n;
    counts.push_back(n);
  }
  lat["bounds_ms"] = std::move(bounds);
  lat["counts"] = std::move(counts);
  lat["count"] = total;  // the buckets' sum, so that the +Inf bucket equals it
  lat["sum_ms"] = static_cast<double>(h.sum_us.load(std::memory_order_relaxed)) / 1000.0;
  out["latency"] = std::move(lat);
  return out;
}

DrainOutcome set_draining(InstanceTable& table, std::string_view id_or_prefix, bool draining) {
  DrainOutcome out;
  std::shared_ptr<Instance> found = table.find(std::string(id_or_prefix));
  if (!found && id_or_prefix.size() >= kMinPrefix) {
    auto snap = table.snapshot();
    std::vector<std::string> matches;
    for (const auto& i : snap->instances) {
      if (i->id.compare(0, id_or_prefix.size(), id_or_prefix) == 0) {
        found = i;
        matches.push_back(i->id);
      }
    }
    if (matches.size() > 1) {
      json::array ids;
      for (auto& m : matches) ids.emplace_back(m);
      out.status = 409;
      out.body["error"] = "instance: \"" + std::string(id_or_prefix) + "\" matches " +
                          std::to_string(matches.size()) + " instances; give more characters";
      out.body["matches"] = std::move(ids);
      return out;
    }
  }
  if (!found) {
    out.status = 404;
    out.body["error"] = "instance: no instance id is or starts with \"" +
                        std::string(id_or_prefix) + "\" (a prefix needs at least " +
                        std::to_string(kMinPrefix) + " characters)";
    return out;
  }
  found->draining.store(draining, std::memory_order_relaxed);
  out.body["instance"] = found->id;
  out.body["draining"] = draining;
  out.body["state"] = found->state_name(now_ms());
  return out;
}

bool admin_authorized(const http::Request& req, std::string_view token) {
  if (token.empty()) return true;
  std::string_view auth = req[bhttp::field::authorization];
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() > kBearer.size()) {
    bool scheme_ok = true;
    for (std::size_t i = 0; i < kBearer.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(auth[i])) !=
          std::tolower(static_cast<unsigned char>(kBearer[i])))
        scheme_ok = false;
    if (scheme_ok) {
      auto presented = auth.substr(kBearer.size());
      while (!presented.empty() && (presented.back() == ' ' || presented.back() == '\t'))
        presented.remove_suffix(1);
      if (constant_time_equal(presented, token)) return true;
    }
  }
  auto parsed = boost::urls::parse_origin_form(req.target());
  if (!parsed) return false;
  auto params = parsed->params();
  auto it = params.find("token");
  return it != params.end() && (*it).has_value && constant_time_equal((*it).value, token);
}

http::Handler admin_handler(const host::Router* router, std::string token) {
  return [router, token = std::move(token)](http::Exchange& ex) {
    return serve_admin(router, token, ex);
  };
}

}  // namespace tether::front
