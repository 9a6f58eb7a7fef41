#pragma once
// Header rules shared by every HTTP hop: hop-by-hop stripping (RFC 9110 §7.6.1)
// and tolerant boolean header values.
#include <string_view>

#include <boost/beast/http/fields.hpp>

namespace tether::http {

// Removes the hop-by-hop headers from `fields`: Connection, Keep-Alive,
// Proxy-Connection, TE, Trailer, Upgrade, Proxy-Authenticate/-Authorization,
// and every header that the Connection header names -- except Host,
// Transfer-Encoding and Content-Length, which routing and framing depend on
// ("Connection: Host" must not make a request lose its Host). Safe to call
// twice.
void strip_hop_by_hop(boost::beast::http::fields& fields);

// True when `value`, trimmed, equals "true" in any case (ARR's reading of
// Arr-Disable-Session-Affinity) or "1".
bool header_is_true(std::string_view value);

// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace tether::http
