#pragma once
// What logs may show of a request: secrets carried in a target's query
// (access_token, the token SignalR clients send for WebSockets and SSE;
// token; code) replaced, so a log line never holds a credential.
#include <string>
#include <string_view>

namespace tether::http {

// `target` with the values of access_token, token and code replaced by
// "REDACTED"; everything else as it was.
std::string loggable_target(std::string_view target);

}  // namespace tether::http
