// The WebSockets transport: one frame per batch of queued messages out (text
// for JSON, binary for MessagePack), any frame in is handed to the hub as bytes.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "transports.hpp"

namespace tether::realtime {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
using Socket = websocket::stream<beast::tcp_stream&>;

// Writes what the hub queues until the connection closes; then a close frame.
// Signals `done` when it returns.
asio::awaitable<void> write_loop(std::shared_ptr<Connection> c, Socket& ws,
                                 std::shared_ptr<asio::steady_timer> done, std::shared_ptr<bool> running) {
  while (!c->gone || !c->output.empty()) {
    if (c->output.empty()) {
      if (c->closing) break;
      co_await c->wake.async_wait(use_nothrow);
      continue;
    }
    auto text = c->take_output();
    ws.binary(c->binary());  // MessagePack: binary frames, the handshake answer too
    auto [ec, n] = co_await ws.async_write(asio::buffer(text), use_nothrow);
    if (ec) break;
  }
  if (c->closing) co_await ws.async_close(websocket::close_code::normal, use_nothrow);
  *running = false;
  done->cancel();
}

}  // namespace

asio::awaitable<void> run_websockets(std::shared_ptr<Hub> hub, std::shared_ptr<Connection> c,
                                     std::string instance_id, beast::tcp_stream& stream,
                                     http::Request request) {
  Socket ws(stream);
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws.set_option(websocket::stream_base::decorator(
      [instance_id](websocket::response_type& res) { res.set("X-Instance-Id", instance_id); }));
  ws.read_message_max(hub->options().max_message_bytes * 4);
  auto [ec] = co_await ws.async_accept(request, use_nothrow);
  if (ec) {
    hub->remove(c);
    co_return;
  }
  c->transport = TransportKind::websockets;
  c->started = Connection::Clock::now();
  auto ex = co_await asio::this_coro::executor;
  auto done = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  auto running = std::make_shared<bool>(true);
  asio::co_spawn(ex, write_loop(c, ws, done, running), asio::detached);
  beast::flat_buffer buffer;
  while (!c->closing) {
    buffer.clear();
    auto [rec, n] = co_await ws.async_read(buffer, use_nothrow);
    if (rec) break;
    hub->receive(c, beast::buffers_to_string(buffer.data()));
  }
  // Either the client went away (read failed) or the hub closes: in both
  // cases the writer flushes what it can, then stops.
  if (!c->closing) {
    c->output.clear();
    hub->remove(c);
  }
  c->closing = true;
  c->wake.cancel();
  while (*running) co_await done->async_wait(use_nothrow);
  hub->remove(c);
  // Drain the client's close reply so the socket shuts down cleanly.
  if (ws.is_open()) {
    stream.expires_after(std::chrono::seconds(5));
    for (;;) {
      buffer.clear();
      auto [rec2, n2] = co_await ws.async_read(buffer, use_nothrow);
      if (rec2) break;
    }
  }
}

}  // namespace tether::realtime
