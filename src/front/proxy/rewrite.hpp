#pragma once
// Private to src/front/proxy: the rewrite phase, the header changes on the
// way in (hop-by-hop out, ARR's forwarding headers in, one framing header)
// and on the way out (the Arr-Disable-Session-Affinity opt-out, the affinity
// cookies, the client's framing). Plain functions over headers and values: no
// I/O, compiled once, unit-testable without a socket.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>

#include "tether/front/affinity.hpp"
#include "tether/front/config.hpp"
#include "tether/front/proxy_error.hpp"
#include "tether/http/message_rules.hpp"

#include "route.hpp"

namespace tether::front::proxy {

// The messages of the proxy path: headers with a body relayed part by part.
using RelayRequest = boost::beast::http::request<boost::beast::http::buffer_body>;
using RelayResponse = boost::beast::http::response<boost::beast::http::buffer_body>;

// What we know about the client side of the connection, computed once.
struct ClientSide {
  std::uint64_t id = 0;
  std::string ip;
  std::string port;
  std::string local;  // the address the client connected to (Host of last resort)
  bool https = false;
};

// The request headers ARR adds (shared/reference/front-door.md):
// X-Forwarded-For (the client's first one extended with ip:port),
// X-Forwarded-Proto, X-Forwarded-Host, X-Client-IP, X-Client-Port,
// X-ARR-LOG-ID, X-Original-URL, X-ARR-SSL (only on HTTPS). The client's own
// copies of all eight are removed from `req`; the new lines are appended to
// `lines` ("Name: value\r\n" each), which http::render_head writes after
// req's fields: no Beast field element per header.
void add_forwarding_headers(boost::beast::http::fields& req, const ClientSide& c,
                            std::string_view host, std::string_view original_url,
                            std::string_view log_id, std::string& lines);

// Turns the client's request header into the one the instance sees: hop-by-
// hop fields and those under relay.strip_request_prefix removed, forwarding
// headers (when relay.forwarding_headers), the peer header on local routes,
// the authoritative target and Host, one framing header generated from
// `reading` (never the client's lines), HTTP/1.1 keep-alive, and the
// Upgrade pair for a WebSocket handshake. The forwarding headers go to
// `extra_lines`, to be rendered after req's fields. May run once per request.
void rewrite_request(RelayRequest& req, const http::RequestReading& reading,
                     const RelayConfig& relay, const ClientSide& cs, std::string_view host,
                     std::string_view log_id, bool to_local, std::string& extra_lines);

// What the response filter decided about one response.
struct ResponseFilter {
  bool opt_out = false;                 // the app sent Arr-Disable-Session-Affinity: true
  std::optional<bool> portable;         // the app sent Tether-Session-Portable (true or not)
  bool upstream_keep_alive = false;     // the instance's connection may carry another request
  std::optional<ProxyFailure> failure;  // set: refuse the response (a bad 101)
  std::string detail;                   // ... and why, for the log
};

// Filters the instance's response header: reads and removes the opt-out
// and Tether-Session-Portable headers (only with forwarding headers: inside
// an instance they are the outer front door's to read), refuses a 101 that was not asked for
// (`websocket` false) or does not accept `websocket_key`
// (ProxyFailure::bad_upgrade: `res` is then left as it is), strips hop-by-hop
// fields, sets relay.response_headers and, unless opted out or local, adds
// the affinity cookies: for a balanced request a new pin, for a timed pin in
// use the same pin with its last-seen date moved on. Counts
// affinity_opt_outs and affinity_cookies_set. Runs once per response.
ResponseFilter filter_response(RelayResponse& res, const Affinity& affinity,
                               const RelayConfig& relay, const RouteDecision& route,
                               const Instance& inst, std::string_view host, bool https,
                               std::int64_t wall_s, bool websocket, std::string_view websocket_key,
                               FrontStats& stats);

// The 101 toward the client: no framing, the Upgrade pair.
void prepare_upgrade_response(RelayResponse& res);

// How the response is framed toward the client and what becomes of both
// connections afterwards.
struct ResponseFraming {
  http::Framing out = http::Framing::none;
  bool client_keep_alive = false;
  bool upstream_reusable = false;
};

// Frames `res` for the client: the same length, else chunked for HTTP/1.1
// clients; HTTP/1.0 clients cannot read chunks, so they get the raw bytes
// and a close. `client_keep_alive` is what the request allowed,
// `upstream_keep_alive` what the instance's response said (before the
// filter removed its Connection header); `stopping` closes the connection
// after this response.
ResponseFraming frame_response(RelayResponse& res, const http::ResponseReading& rr,
                               unsigned client_version, bool client_keep_alive,
                               bool upstream_keep_alive, bool stopping);

}  // namespace tether::front::proxy
