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

// Attributes of one Set-Cookie header.
struct SetCookie {
  std::string name;
  std::string value;
  std::string path = "/";
  std::string domain;     // empty: no Domain attribute
  std::string same_site;  // empty: no SameSite attribute
  bool http_only = true;
  bool secure = false;
  long long max_age = -1;  // < 0: session cookie

  // Renders in ARR's attribute order: name=value;Path=/;HttpOnly;SameSite=..;Secure;Domain=..
  std::string to_string() const;
};

// The host part of a Host header value: "example.com:8080" -> "example.com",
// "[::1]:80" -> "::1". Lowercased.
std::string host_without_port(std::string_view host);

// The same in place (no allocation beyond what `host` holds).
void strip_port_and_lowercase(std::string& host);

}  // namespace tether::http
