#include "tether/session/session_config.hpp"

#include <stdexcept>

#include "tether/session/session_store.hpp"

namespace tether::session {

namespace {
// RFC 6265 cookie-name: a token (no separators, no controls).
bool is_cookie_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= 32 || c >= 127) return false;
    if (std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) return false;
  }
  return true;
}
}  // namespace

void check_store_url(const std::string& key, const std::string& url) {
  try {
    parse_store_url(url);
  } catch (const std::invalid_argument& e) {
    throw net::ConfigError(key + ": " + e.what() + " (got \"" + url + "\")");
  }
}

void load_session_config(net::ConfigReader& r, SessionConfig& c) {
  c.store = r.string("store", c.store);
  check_store_url(r.path("store"), c.store);
  c.cookie = r.string("cookie", c.cookie);
  if (!is_cookie_name(c.cookie))
    r.fail("cookie", "must be a cookie name (letters, digits, !#$%&'*+-.^_`|~)",
           "\"" + c.cookie + "\"");
  auto idle = r.duration("idle_timeout", c.idle_timeout);
  if (idle.count() <= 0) r.fail("idle_timeout", "must be positive", "\"0s\"");
  c.idle_timeout = idle;
  auto timeout = r.duration("store_timeout", c.store_timeout);
  if (timeout.count() <= 0) r.fail("store_timeout", "must be positive", "\"0s\"");
  c.store_timeout = timeout;
  r.reject_unknown();
}

}  // namespace tether::session
