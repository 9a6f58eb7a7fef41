#pragma once
// WebSocket endpoints for instance apps: a route that upgrades, and the
// message-level peer a handler talks to. Pings and idle timeouts are Beast's
// suggested server settings.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "tether/host/router.hpp"

namespace tether::host {

class WebSocket {
 public:
  struct Impl;
  explicit WebSocket(std::unique_ptr<Impl> impl);
  ~WebSocket();

  // The next whole message, or nullopt when the peer closed or the
  // connection failed.
  asio::awaitable<std::optional<std::string>> receive();
  // Sends one message; false when the connection is gone.
  asio::awaitable<bool> send(std::string message, bool binary = false);
  // Sends a close frame (normal closure).
  asio::awaitable<void> close();

  const http::Request& request() const;
  const InstanceInfo& instance() const;

 private:
  std::unique_ptr<Impl> impl_;
};

using WebSocketHandler = std::function<asio::awaitable<void>(WebSocket&)>;

// Adds a GET route at `pattern` that accepts WebSocket upgrades and runs
// `handler` for each connection. Plain requests get 426 Upgrade Required.
void add_websocket_route(Router& router, std::string pattern, WebSocketHandler handler);

}  // namespace tether::host
