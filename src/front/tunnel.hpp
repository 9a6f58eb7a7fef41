#pragma once
// Private to src/front: after a 101 Switching Protocols, the client and the
// instance talk directly; the front door copies bytes both ways without
// parsing frames. Idle plain tunnels hold no buffers, no timer and no
// coroutine frame (a buffer exists only while bytes are in flight), so
// thousands of them cost little.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "tether/front/front_server.hpp"
#include "tether/front/instance_table.hpp"

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

// Starts a plain tunnel: copies bytes both ways until both directions are
// closed. EOF on one side half-closes the other (shutdown of its send side);
// an error on either side closes both. The tunnel owns itself (its pending
// operations hold it) and, when it ends, deregisters connection
// `connection_id` from `w` and updates the counters. Runs on w's thread.
void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id, TunnelEnds ends,
                  std::shared_ptr<Instance> inst);

// Closes `w`'s plain tunnels that saw no traffic for `idle_ms` (called by the
// worker's periodic sweep).
void sweep_idle_tunnels(FrontServer::Worker& w, std::int64_t now, std::int64_t idle_ms);

// The same for a TLS client (tunnel_tls.cpp). Each direction keeps a 16 KiB
// buffer while the tunnel lives (TLS records cannot be peeked at), and EOF
// from either side closes both.
// Returns true when the tunnel was closed for idleness.
boost::asio::awaitable<bool> run_tunnel_tls(
    boost::beast::ssl_stream<boost::beast::tcp_stream>& client, TunnelHandoff handoff,
    std::chrono::milliseconds idle);

}  // namespace tether::front
