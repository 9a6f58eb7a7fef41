#include "tether/front/affinity.hpp"

#include <algorithm>
#include <array>
#include <atomic>

#include "tether/http/cookies.hpp"
#include "tether/http/headers.hpp"

namespace tether::front {

namespace bhttp = boost::beast::http;

namespace {
std::atomic<std::uint64_t> g_affinity_generations{0};
}

Affinity::Affinity(AffinityConfig config)
    : config_(std::move(config)), generation_(g_affinity_generations.fetch_add(1) + 1) {}

namespace {

// "<token>.<first>.<last>" -> its parts, from the right (a token may hold
// dots). False when the value has no two trailing decimal dates.
bool split_timed(std::string_view v, std::string_view& token, std::int64_t& first,
                 std::int64_t& last) {
  auto number = [](std::string_view s, std::int64_t& out) {
    if (s.empty() || s.size() > 12) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    return true;
  };
  auto dot2 = v.rfind('.');
  if (dot2 == std::string_view::npos || dot2 == 0) return false;
  auto dot1 = v.rfind('.', dot2 - 1);
  if (dot1 == std::string_view::npos || dot1 == 0) return false;
  if (!number(v.substr(dot1 + 1, dot2 - dot1 - 1), first) || !number(v.substr(dot2 + 1), last))
    return false;
  token = v.substr(0, dot1);
  return true;
}

}  // namespace

std::vector<Affinity::Pin> Affinity::request_pins(const bhttp::fields& req,
                                                  std::int64_t now_s) const {
  std::vector<Pin> out;
  for (auto value : request_tokens(req)) {
    Pin p;
    if (!timed()) {
      p.token = value;
      out.push_back(p);
      continue;
    }
    if (!split_timed(value, p.token, p.first_s, p.last_s) || p.last_s < p.first_s) {
      p.token = value;
      p.expired = true;
    } else {
      const auto idle = config_.max_idle.count(), life = config_.max_life.count();
      p.expired = (idle > 0 && now_s - p.last_s > idle) || (life > 0 && now_s - p.first_s > life) ||
                  p.last_s > now_s + 86'400;  // dated far in the future: forged
    }
    out.push_back(p);
  }
  return out;
}

bool Affinity::needs_refresh(const Pin& pin, std::int64_t now_s) const {
  // The last-seen date is what max_idle and rebalance_idle read: moved on
  // at most every quarter of the shorter one.
  std::int64_t period = 0;
  for (auto s : {config_.max_idle.count(), rebalancing() ? config_.rebalance_idle.count() : 0})
    if (s > 0 && (period == 0 || s < period)) period = s;
  if (!timed() || period == 0) return false;
  return now_s - pin.last_s >= std::max<std::int64_t>(1, period / 4);
}

bool Affinity::idle_for_rebalance(const Pin& pin, std::int64_t now_s) const {
  return rebalancing() && now_s - pin.last_s >= config_.rebalance_idle.count();
}

std::string Affinity::cookie_value(std::string_view token, std::int64_t first_s,
                                   std::int64_t now_s) const {
  if (!timed()) return std::string(token);
  return std::string(token) + "." + std::to_string(first_s) + "." + std::to_string(now_s);
}

std::vector<std::string_view> Affinity::request_tokens(const bhttp::fields& req) const {
  if (!config_.enabled) return {};
  auto tokens = http::cookie_values(req, config_.cookie);
  if (!config_.samesite_cookie.empty()) {
    auto twin = http::cookie_values(req, config_.samesite_cookie);
    tokens.insert(tokens.end(), twin.begin(), twin.end());
  }
  return tokens;
}

namespace {

// The Domain attribute for `host` into `out` (cleared first): the configured
// domain, or the Host header's name without port, lowercased; left empty
// when that is not a cookie-safe name (a hostile Host header with spaces or
// semicolons must not inject attributes).
void cookie_domain(const AffinityConfig& cfg, std::string_view host, std::string& out) {
  out.clear();
  if (!cfg.domain.empty())
    out = cfg.domain;
  else if (cfg.set_domain) {
    out = host;
    http::strip_port_and_lowercase(out);
  }
  for (char c : out)
    if (c == ';' || c == ',' || c == ' ' || c == '"' || static_cast<unsigned char>(c) < 33 ||
        static_cast<unsigned char>(c) > 126) {
      out.clear();
      break;
    }
}

}  // namespace

std::vector<std::string> Affinity::cookie_values(std::string_view token, std::string_view host,
                                                 bool https) const {
  std::vector<std::string> out;
  add_cookie_values(token, host, https, [&](std::string_view v) { out.emplace_back(v); });
  return out;
}

template <class Sink>
void Affinity::add_cookie_values(std::string_view token, std::string_view host, bool https,
                                 Sink&& sink) const {
  // Per thread, reused: a response's cookies cost no allocation once warm.
  thread_local std::string domain, value;
  cookie_domain(config_, host, domain);
  http::SetCookie cookie;
  cookie.name = config_.cookie;
  cookie.value = token;
  cookie.secure = https;
  cookie.domain = domain;
  value.clear();
  cookie.append_to(value);
  sink(std::string_view(value));
  if (!config_.samesite_cookie.empty()) {
    cookie.name = config_.samesite_cookie;
    cookie.same_site = "None";
    cookie.secure = true;
    value.clear();
    cookie.append_to(value);
    sink(std::string_view(value));
  }
}

void Affinity::add_cookies(bhttp::fields& res, std::string_view token, std::string_view host,
                           bool https) const {
  // The rendered cookies of the last few pins, per thread: a front door's
  // responses pin to its few instances' tokens on a few Hosts, so most
  // responses render none. Keyed by this Affinity's generation too (a
  // reload's new one never matches).
  struct Rendered {
    std::uint64_t generation = 0;
    std::string token, host;
    bool https = false;
    std::string values[2];
    std::size_t count = 0;
  };
  constexpr std::size_t kSlots = 16;
  thread_local std::array<Rendered, kSlots> rendered;
  thread_local std::size_t next_slot = 0;
  Rendered* hit = nullptr;
  for (auto& r : rendered)
    if (r.generation == generation_ && r.https == https && r.token == token && r.host == host) {
      hit = &r;
      break;
    }
  if (!hit) {
    hit = &rendered[next_slot];
    next_slot = (next_slot + 1) % kSlots;
    hit->generation = 0;  // until rendered whole
    hit->count = 0;
    add_cookie_values(token, host, https,
                      [&](std::string_view v) { hit->values[hit->count++].assign(v); });
    hit->token.assign(token);
    hit->host.assign(host);
    hit->https = https;
    hit->generation = generation_;
  }
  for (std::size_t i = 0; i < hit->count; ++i) res.insert(bhttp::field::set_cookie, hit->values[i]);
}

namespace {

// Removes every line named `name` from `res` in one pass over its lines (no
// search of Beast's index by name): whether one of them said true, nullopt
// when there was none.
std::optional<bool> take_flag(bhttp::fields& res, std::string_view name) {
  std::optional<bool> value;
  for (auto it = res.begin(); it != res.end();) {
    if (!http::iequals(it->name_string(), name)) {
      ++it;
      continue;
    }
    value = value.value_or(false) || http::header_is_true(it->value());
    it = res.erase(it);
  }
  return value;
}

}  // namespace

bool Affinity::take_opt_out(bhttp::fields& res) {
  return take_flag(res, kOptOutHeader).value_or(false);
}

std::optional<bool> Affinity::take_portable(bhttp::fields& res) {
  return take_flag(res, kPortableHeader);
}

}  // namespace tether::front
