#pragma once
// Raw bytes over loopback TCP, for requests no well-behaved client would send
// (malformed, oversized, smuggling attempts, slow).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "tether/http/server.hpp"

namespace tether::test {

// A TCP socket connected to 127.0.0.1:port (a file descriptor the caller
// closes). Throws std::runtime_error naming the port when the connect fails.
int connect_loopback(std::uint16_t port);

// What one raw exchange brought back.
struct RawExchange {
  std::string received;          // every byte, until the peer closed or the limit passed
  std::uint16_t local_port = 0;  // the client's port (X-Forwarded-For names it)
  bool closed_by_peer = false;   // false: `limit` passed first (a hang)
};

// Connects to 127.0.0.1:port, sends `bytes`, half-closes when
// `shutdown_write`, and reads until the peer closes or `limit` passes.
// Throws when the connect fails.
RawExchange raw_exchange_full(std::uint16_t port, std::string_view bytes, bool shutdown_write,
                              std::chrono::seconds limit);

// Connects to 127.0.0.1:port, sends `bytes`, half-closes when `shutdown_write`
// and reads until the peer closes (or `limit` passes: then returns what came).
// `closed_by_peer`, when given, tells which of the two ended the read.
std::string raw_exchange(std::uint16_t port, std::string_view bytes, bool shutdown_write = false,
                         std::chrono::seconds limit = std::chrono::seconds(30),
                         bool* closed_by_peer = nullptr);

// Parses the first HTTP response in `raw`. Status 0 when it does not parse.
http::Response parse_first_response(const std::string& raw);

}  // namespace tether::test
