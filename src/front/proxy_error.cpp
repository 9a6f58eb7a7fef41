#include "tether/front/proxy_error.hpp"

#include "tether/http/parse_errors.hpp"

namespace tether::front {

int status_for(ProxyFailure f) {
  switch (f) {
    case ProxyFailure::no_instance: return 503;
    case ProxyFailure::connect_failed: return 502;
    case ProxyFailure::upstream_timeout: return 504;
    case ProxyFailure::upstream_broken: return 502;
    case ProxyFailure::upstream_framing: return 502;
    case ProxyFailure::bad_upgrade: return 502;
    case ProxyFailure::body_too_large: return 413;
    case ProxyFailure::bad_request_body: return 400;
    case ProxyFailure::too_many_headers: return 431;
    case ProxyFailure::too_busy: return 503;
  }
  return 500;
}

const char* describe(ProxyFailure f) {
  switch (f) {
    case ProxyFailure::no_instance: return "no instance is available";
    case ProxyFailure::connect_failed: return "could not connect to an instance";
    case ProxyFailure::upstream_timeout: return "the instance did not answer in time";
    case ProxyFailure::upstream_broken: return "the instance closed the connection or answered badly";
    case ProxyFailure::upstream_framing: return "the instance framed its response ambiguously";
    case ProxyFailure::bad_upgrade: return "the instance's 101 does not accept this WebSocket handshake";
    case ProxyFailure::body_too_large: return "request body too large";
    case ProxyFailure::bad_request_body: return "malformed body";
    case ProxyFailure::too_many_headers: return "too many request header fields";
    case ProxyFailure::too_busy: return "too busy";
  }
  return "internal error";
}

std::string error_body(ProxyFailure f, std::string_view log_id) {
  int status = status_for(f);
  std::string out = std::to_string(status) + " " + http::short_reason(status) + ": " + describe(f);
  out += "\n";
  if (!log_id.empty()) {
    out += "log id: ";
    out += log_id;
    out += "\n";
  }
  return out;
}

}  // namespace tether::front
