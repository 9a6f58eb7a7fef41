#pragma once
// ARR's session affinity, as pure functions over headers (no I/O), so the
// proxy path and the unit tests share one definition:
//  - which token a request presents (ARRAffinity, then its SameSite twin);
//  - the two Set-Cookie values of a pinned response;
//  - the Arr-Disable-Session-Affinity opt-out, read and removed from responses.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/fields.hpp>

#include "tether/front/config.hpp"

namespace tether::front {

inline constexpr std::string_view kOptOutHeader = "Arr-Disable-Session-Affinity";
// An app's word that its sessions survive a move to another instance (they
// live in a shared store): its pins may be rebalanced. tether's own host
// sends it when its session store is not "memory".
inline constexpr std::string_view kPortableHeader = "Tether-Session-Portable";

class Affinity {
 public:
  explicit Affinity(AffinityConfig config);

  const AffinityConfig& config() const { return config_; }
  bool enabled() const { return config_.enabled; }

  // True when max_idle, max_life or rebalancing is on: cookies carry their dates.
  bool timed() const {
    return config_.max_idle.count() > 0 || config_.max_life.count() > 0 || rebalancing();
  }
  // True when idle pins may be moved to less-loaded instances.
  bool rebalancing() const { return config_.enabled && config_.rebalance_idle.count() > 0; }

  // One pin a request presents: its token and, for timed cookies, when it
  // was first set and last refreshed (Unix seconds).
  struct Pin {
    std::string_view token;
    std::int64_t first_s = 0, last_s = 0;
    bool expired = false;  // idle past max_idle or older than max_life: balance afresh
  };

  // The pins the request presents at `now_s`, main cookie first, then the
  // SameSite twin. Empty when affinity is off (incoming cookies are ignored
  // then). With timed cookies, a value without valid dates (a bare ARR
  // token, a forged one) counts as expired: it is balanced afresh.
  std::vector<Pin> request_pins(const boost::beast::http::fields& req, std::int64_t now_s) const;

  // Tokens the request presents, main cookie first, then the SameSite twin
  // (request_pins without the dates).
  std::vector<std::string_view> request_tokens(const boost::beast::http::fields& req) const;

  // For a timed pin that routed a request at `now_s`: whether its cookie
  // should be sent again with a fresh last-seen date (at most every quarter
  // of max_idle or rebalance_idle, the shorter, so a busy client is not sent
  // cookies on every response).
  bool needs_refresh(const Pin& pin, std::int64_t now_s) const;

  // True when rebalancing is on and `pin` has been idle at least
  // rebalance_idle at `now_s`: it may be moved to a less-loaded instance.
  bool idle_for_rebalance(const Pin& pin, std::int64_t now_s) const;

  // The cookie value for `token`: the bare token (ARR), or with timed
  // cookies "<token>.<first_s>.<now_s>".
  std::string cookie_value(std::string_view token, std::int64_t first_s, std::int64_t now_s) const;

  // Appends the Set-Cookie headers pinning the client to `token`.
  // `host` is the request's Host header (port is dropped for Domain);
  // `https` adds Secure to the main cookie (the twin always has it).
  void add_cookies(boost::beast::http::fields& res, std::string_view token, std::string_view host,
                   bool https) const;

  // The Set-Cookie values add_cookies() would append (for tests and docs).
  std::vector<std::string> cookie_values(std::string_view token, std::string_view host,
                                         bool https) const;

  // True when the response opts out of affinity (Arr-Disable-Session-Affinity
  // true, any case). Removes every such header either way, as ARR does.
  static bool take_opt_out(boost::beast::http::fields& res);

  // Reads and removes Tether-Session-Portable: true when present (any
  // case), false when present with another value, nullopt when absent.
  static std::optional<bool> take_portable(boost::beast::http::fields& res);

 private:
  // Calls sink(std::string_view) with each Set-Cookie value, main cookie
  // first; the views last until the next call on this thread.
  template <class Sink>
  void add_cookie_values(std::string_view token, std::string_view host, bool https,
                         Sink&& sink) const;

  AffinityConfig config_;
  std::uint64_t generation_;  // unique per constructed Affinity (add_cookies' cache)
};

}  // namespace tether::front
