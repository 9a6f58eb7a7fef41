#pragma once
// "host:port" parsing for configuration and instance addresses.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::net {

struct HostPort {
  std::string host;  // a name, an IPv4 literal or an IPv6 literal without brackets
  std::uint16_t port = 0;

  // "host:port", with brackets around IPv6 literals.
  std::string to_string() const;
};

// The http:// URL a local client uses to reach a listener on `listen`:port.
// A wildcard listen address is shown as loopback (0.0.0.0 -> 127.0.0.1,
// :: -> [::1]); IPv6 literals get brackets ("http://[::1]:8080").
std::string local_http_url(std::string_view listen, std::uint16_t port);

// Parses "host:port", "[v6]:port" or ":port" (host left empty). nullopt when
// the port is missing or out of range.
std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace tether::net
