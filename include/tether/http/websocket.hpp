#pragma once
// One WebSocket, message by message, whichever side opened it and over plain
// TCP or TLS: the one session type behind the instance host's WebSocket
// routes (host::WebSocket), the mesh's links (mesh::WsTransport) and
// SignalR's WebSockets transport. src/http/websocket_server.cpp and
// websocket_client.cpp hold tether's only Beast websocket instantiations.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "tether/http/server.hpp"

namespace boost::asio::ssl {
class context;
}

namespace tether::http {

namespace asio = boost::asio;

class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Reads one whole message into `buffer` (cleared first). False when the
  // connection closed, failed, went silent past its idle timeout, or sent a
  // message over the read limit (closed with 1009, never read into memory).
  virtual asio::awaitable<bool> read(boost::beast::flat_buffer& buffer, bool& text) = 0;
  // Writes one message. False when the connection is gone.
  virtual asio::awaitable<bool> write(std::string_view message, bool text) = 0;
  // Writes one binary message made of `parts`, in order, without joining
  // them first (`parts` must stay alive until it returns).
  virtual asio::awaitable<bool> write(const std::vector<asio::const_buffer>& parts) = 0;
  // Sends a close frame (normal closure) and waits for the peer's, bounded
  // by the idle timeout.
  virtual asio::awaitable<void> close() = 0;
  // Closes the socket at once: pending reads and writes complete with errors.
  virtual void abort() = 0;
  // "ip:port" of the peer, for logs.
  virtual std::string peer() const = 0;
  // Why the connection failed: its first failed read or write ("" before
  // one did), for logs.
  virtual std::string error() const { return {}; }
  // The largest message read() accepts.
  virtual void set_read_limit(std::size_t bytes) = 0;
};

// Timeouts and limits of a WebSocket, server or client side.
struct WebSocketOptions {
  // With a value: a ping every half of it, and a connection silent that long
  // is dropped (the mesh's liveness). Without: Beast's suggested settings
  // for the role (servers: 300 s idle with pings).
  std::optional<std::chrono::milliseconds> idle;
  std::size_t read_limit = 0;  // 0: Beast's default (16 MiB)
  std::string instance_id;     // server: X-Instance-Id on the 101, if not empty
};

// Accepts the upgrade `req` on `stream` (taken over from an HTTP server).
// Null when the handshake fails. The WebSocket refers to `stream`: it must
// not outlive it.
asio::awaitable<std::unique_ptr<WebSocket>> accept_websocket(boost::beast::tcp_stream& stream,
                                                             const Request& req,
                                                             WebSocketOptions options);

// A client connection: `url` is ws://, wss://, http:// or https:// (the
// latter two as ws/wss) with the path to open.
struct WebSocketDial {
  std::string url;
  std::string cookie;                        // Cookie header, if not empty
  std::string user_agent;                    // User-Agent header, if not empty
  asio::ssl::context* tls = nullptr;         // for wss:// (must outlive the WebSocket)
  std::chrono::milliseconds timeout{5'000};  // resolve + connect + TLS + handshake
  WebSocketOptions options;
};

struct WebSocketDialResult {
  std::unique_ptr<WebSocket> socket;  // null on failure
  std::string error;                  // why, when socket is null
  unsigned status = 0;                // the HTTP status refusing the upgrade, if one came
  std::string set_cookie;   // "name=value; name2=value2" from Set-Cookie on the 101, or ""
  std::string instance_id;  // X-Instance-Id of the 101 response, or ""
};

// Opens `dial.url` within dial.timeout. Never throws for network errors.
asio::awaitable<WebSocketDialResult> dial_websocket(asio::any_io_executor executor,
                                                    WebSocketDial dial);

}  // namespace tether::http
