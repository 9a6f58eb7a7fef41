#pragma once
// Raw bytes over loopback TCP, for requests no well-behaved client would send
// (malformed, oversized, smuggling attempts, slow).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "tether/http/server.hpp"

namespace tether::test {

// Connects to 127.0.0.1:port, sends `bytes`, half-closes when `shutdown_write`
// and reads until the peer closes (or `limit` passes: then returns what came).
// `closed_by_peer`, when given, tells which of the two ended the read.
std::string raw_exchange(std::uint16_t port, std::string_view bytes, bool shutdown_write = false,
                         std::chrono::seconds limit = std::chrono::seconds(30),
                         bool* closed_by_peer = nullptr);

// Parses the first HTTP response in `raw`. Status 0 when it does not parse.
http::Response parse_first_response(const std::string& raw);

}  // namespace tether::test
