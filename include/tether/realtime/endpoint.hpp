#pragma once
// Serves a Hub at a path, as ASP.NET Core's MapHub does (docs/realtime.md):
//   POST <path>/negotiate   connection id and token, transports (versions 0, 1)
//   GET  <path>?id=<token>  WebSocket upgrade, Server-Sent Events
//                           (Accept: text/event-stream) or a long poll;
//                           a WebSocket upgrade without ?id= is a connection
//                           that skipped negotiation
//   POST <path>?id=<token>  what a Server-Sent Events or Long Polling client sends
//   DELETE <path>?id=<token> ends a Long Polling connection
// An unknown token answers 404 (negotiated on another instance: affinity is
// off, or the connection ended).
#include <memory>
#include <string>

#include "tether/host/router.hpp"
#include "tether/realtime/hub.hpp"

namespace tether::realtime {

void map_hub(host::Router& router, const std::string& path, std::shared_ptr<Hub> hub);

}  // namespace tether::realtime
