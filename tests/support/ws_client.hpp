#pragma once
// A WebSocket client for tests (Beast), every call bounded by a deadline.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tether/http/server.hpp"

namespace tether::test {

class WsClient {
 public:
  // Connects to 127.0.0.1:port and upgrades at `target`, sending `cookie`
  // when not empty. Throws on failure (with the HTTP status when the server
  // refused the upgrade).
  // `headers`: more request header lines ("Name: value").
  WsClient(std::uint16_t port, const std::string& target, const std::string& cookie = {},
           std::chrono::seconds limit = std::chrono::seconds(30),
           std::vector<std::string> headers = {});
  ~WsClient();

  // The 101 response (its headers: Set-Cookie, X-Instance-Id).
  const http::Response& handshake() const;

  void send(const std::string& text);
  // The next message; nullopt when the connection closed or `limit` passed.
  std::optional<std::string> receive(std::chrono::seconds limit = std::chrono::seconds(30));
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::test
