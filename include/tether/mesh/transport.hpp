#pragma once
// The mesh's WebSocket, whichever side opened it: a member's client
// connection to the front door (ws:// or wss://) or the hub's accepted
// connection on /.tether/mesh. Both use WebSocket pings with `liveness` as the
// idle timeout, so a silent peer is dropped within `liveness`.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "tether/http/server.hpp"
#include "tether/http/websocket.hpp"

namespace boost::asio::ssl {
class context;
}

namespace tether::mesh {

namespace asio = boost::asio;

// The mesh's connections are the one WebSocket type (http/websocket.hpp),
// or an in-process pair (local_pair below).
using WsTransport = http::WebSocket;

// The result of opening a member connection through the front door
// (`socket` null on failure, with `error`, and `status` when the front door
// refused the upgrade).
using DialResult = http::WebSocketDialResult;

// Opens `<public_url>/.tether/mesh` (http->ws, https->wss) presenting
// `cookie` (may be empty), within `timeout`. `tls` is used for wss:// and
// must outlive the transport. Never throws for network errors.
asio::awaitable<DialResult> dial(asio::any_io_executor executor, std::string public_url,
                                 std::string cookie, asio::ssl::context* tls,
                                 std::chrono::milliseconds liveness,
                                 std::chrono::milliseconds timeout);

// Accepts the upgrade `req` on `stream` (taken over from the instance's HTTP
// server). Null when the handshake fails. The transport refers to `stream`:
// it must not outlive it.
asio::awaitable<std::unique_ptr<WsTransport>> accept(boost::beast::tcp_stream& stream,
                                                     http::Request req,
                                                     std::chrono::milliseconds liveness,
                                                     std::string instance_id);

// Two connected in-process ends: what one writes the other reads, whole and
// in order. close() ends the other's reads after what was written; abort()
// drops what this end has not read and ends both ways (what it wrote stays
// readable, like bytes a socket already sent). The hub's own member joins
// its hub through a pair instead of through the front door (mesh.cpp).
// Both ends must be used on `executor`'s thread.
std::pair<std::unique_ptr<WsTransport>, std::unique_ptr<WsTransport>> local_pair(
    asio::any_io_executor executor);

// An SSL client context for wss:// (system trust store; `insecure` accepts
// any certificate, for local plans with a self-signed one).
std::unique_ptr<asio::ssl::context> make_client_tls(bool insecure);

}  // namespace tether::mesh
