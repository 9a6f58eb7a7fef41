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
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace tether::front {

// What the proxy path hands over after a 101: the instance's socket and the
// bytes each side sent past the HTTP headers.
struct TunnelHandoff {
  boost::asio::ip::tcp::socket upstream;
  std::string to_upstream;
  std::string to_client;
};

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

// The same for a TLS client (tunnel_tls.cpp). Each direction keeps a 16 KiB
// buffer while the tunnel lives (TLS records cannot be peeked at), and EOF
// from either side closes both.
boost::asio::awaitable<TunnelResult> run_tunnel_tls(
    boost::beast::ssl_stream<boost::beast::tcp_stream>& client, TunnelHandoff handoff,
    std::chrono::milliseconds idle);

}  // namespace tether::front
