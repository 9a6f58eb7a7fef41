#pragma once
// Reading cookies from Cookie request headers and writing Set-Cookie values.
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/fields.hpp>

namespace tether::http {

// Every value of the cookie `name` across all Cookie headers of `fields`, in
// order of appearance. Names match exactly (cookies are case-sensitive);
// surrounding double quotes are removed. Malformed pairs are skipped.
std::vector<std::string_view> cookie_values(const boost::beast::http::fields& fields,
                                            std::string_view name);

// Attributes of one Set-Cookie header (views: what they point at must
// outlive the rendering).
struct SetCookie {
  std::string_view name;
  std::string_view value;
  std::string_view path = "/";
  std::string_view domain;     // empty: no Domain attribute
  std::string_view same_site;  // empty: no SameSite attribute
  bool http_only = true;
  bool secure = false;
  long long max_age = -1;  // < 0: session cookie

  // Renders in ARR's attribute order: name=value;Path=/;HttpOnly;SameSite=..;Secure;Domain=..
  std::string to_string() const;
  // The same appended to `out` (no allocation once `out` has the room).
  void append_to(std::string& out) const;
};

// The host part of a Host header value: "example.com:8080" -> "example.com",
// "[::1]:80" -> "::1". Lowercased.
std::string host_without_port(std::string_view host);

// The same in place (no allocation beyond what `host` holds).
void strip_port_and_lowercase(std::string& host);

}  // namespace tether::http
