#pragma once
// Header rules shared by every HTTP hop: hop-by-hop stripping (RFC 9110 §7.6.1)
// and tolerant boolean header values.
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

namespace tether::http {

// Removes the hop-by-hop headers from `fields`: Connection, Keep-Alive,
// Proxy-Connection, TE, Trailer, Upgrade, Proxy-Authenticate/-Authorization,
// and every header that the Connection header names -- except Host,
// Transfer-Encoding and Content-Length, which routing and framing depend on
// ("Connection: Host" must not make a request lose its Host). Safe to call
// twice.
void strip_hop_by_hop(boost::beast::http::fields& fields);

// Makes `h` say keep-alive or close as Beast's keep_alive(bool) does. When
// no Connection field is left (strip_hop_by_hop ran), only what differs
// from the version's default is added, without searching Beast's index.
template <bool isRequest, class Body>
void set_keep_alive(boost::beast::http::message<isRequest, Body>& h, bool keep_alive) {
  namespace bhttp = boost::beast::http;
  for (const auto& f : h)
    if (f.name() == bhttp::field::connection) {
      h.keep_alive(keep_alive);
      return;
    }
  if (h.version() >= 11 && !keep_alive) h.insert(bhttp::field::connection, "close");
  if (h.version() < 11 && keep_alive) h.insert(bhttp::field::connection, "keep-alive");
}

// True when `value`, trimmed, equals "true" in any case (ARR's reading of
// Arr-Disable-Session-Affinity) or "1".
bool header_is_true(std::string_view value);

// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace tether::http
