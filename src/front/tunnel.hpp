#pragma once
// Private to src/front: after a 101 Switching Protocols, the client and the
// instance talk directly; the front door copies bytes both ways without
// parsing frames. Idle tunnels hold no buffers (a buffer exists only while
// bytes are in flight), so thousands of them cost little.
#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace tether::front {

struct TunnelEnds {
  boost::asio::ip::tcp::socket client;
  boost::asio::ip::tcp::socket upstream;
  std::string to_upstream;  // bytes the client sent after its request header
  std::string to_client;    // bytes the instance sent after its 101 header
};

struct TunnelResult {
  std::uint64_t bytes_to_upstream = 0;
  std::uint64_t bytes_to_client = 0;
  bool idle_timeout = false;
};

// Copies bytes both ways until both directions are closed. EOF on one side
// half-closes the other (shutdown of its send side); an error on either side
// closes both; no traffic either way for `idle` closes both. `register_sockets`
// lets the caller know the sockets to close on a hard stop.
boost::asio::awaitable<TunnelResult> run_tunnel(TunnelEnds& ends, std::chrono::milliseconds idle);

}  // namespace tether::front
