#pragma once
// ARR's session affinity, as pure functions over headers (no I/O), so the
// proxy path and the unit tests share one definition:
//  - which token a request presents (ARRAffinity, then its SameSite twin);
//  - the two Set-Cookie values of a pinned response;
//  - the Arr-Disable-Session-Affinity opt-out, read and removed from responses.
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/fields.hpp>

#include "tether/front/config.hpp"

namespace tether::front {

inline constexpr std::string_view kOptOutHeader = "Arr-Disable-Session-Affinity";

class Affinity {
 public:
  explicit Affinity(AffinityConfig config);

  const AffinityConfig& config() const { return config_; }
  bool enabled() const { return config_.enabled; }

  // Tokens the request presents, main cookie first, then the SameSite twin.
  // Empty when affinity is off (incoming cookies are ignored then).
  std::vector<std::string_view> request_tokens(const boost::beast::http::fields& req) const;

  // Appends the Set-Cookie headers pinning the client to `token`.
  // `host` is the request's Host header (port is dropped for Domain);
  // `https` adds Secure to the main cookie (the twin always has it).
  void add_cookies(boost::beast::http::fields& res, std::string_view token,
                   std::string_view host, bool https) const;

  // The Set-Cookie values add_cookies() would append (for tests and docs).
  std::vector<std::string> cookie_values(std::string_view token, std::string_view host,
                                         bool https) const;

  // True when the response opts out of affinity (Arr-Disable-Session-Affinity
  // true, any case). Removes every such header either way, as ARR does.
  static bool take_opt_out(boost::beast::http::fields& res);

 private:
  AffinityConfig config_;
};

}  // namespace tether::front
