#pragma once
// Proxy failures, classified by source, and the one mapping from a failure to
// the status and short body the client sees (Pingora's fail_to_proxy).
#include <string>
#include <string_view>

namespace tether::front {

enum class ProxyFailure {
  no_instance,       // no instance takes traffic -> 503
  connect_failed,    // every instance tried refused or timed out -> 502
  upstream_timeout,  // no response within timeouts.upstream_response -> 504
  upstream_broken,   // upstream closed or sent garbage -> 502
  upstream_framing,  // upstream framed its response ambiguously (http::read_response) -> 502
  bad_upgrade,       // a 101 that does not accept the client's WebSocket handshake -> 502
  body_too_large,    // request body over limits.max_body_bytes -> 413
  bad_request_body,  // the request body could not be read as framed (or timed out) -> 400
  too_many_headers,  // header count over limits.max_header_count -> 431
  too_busy,          // limits.max_connections are open: refused at accept -> 503
};

int status_for(ProxyFailure f);
const char* describe(ProxyFailure f);

// Short plain-text body: "502 Bad Gateway: <description>\nlog id: <id>\n".
std::string error_body(ProxyFailure f, std::string_view log_id);

}  // namespace tether::front
