// The WebSockets transport: one frame per batch of queued messages out (text
// for JSON, binary for MessagePack), any frame in is handed to the hub as bytes.
// With stateful reconnect a connection outlives its WebSocket: a dropped one
// detaches it (Hub::detach), and the next one with its token resumes it with
// a Sequence and the messages the client has not acknowledged.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "tether/http/websocket.hpp"
#include "transports.hpp"

namespace tether::realtime {

namespace beast = boost::beast;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
using Socket = http::WebSocket;
constexpr int kGather = 8;

// One WebSocket of a connection, shared by its reader and its writer.
struct Attachment {
  explicit Attachment(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer done;  // cancelled when the writer returns
  bool writing = true;
  bool ended = false;  // lost (detached) or superseded: leave the connection alone
  std::string resume;  // a resumed connection's Sequence and unacknowledged messages
};

// Writes what the hub queues until the connection closes (then a close
// frame) or this WebSocket ends.
asio::awaitable<void> write_loop(std::shared_ptr<Connection> c, Socket& ws,
                                 std::shared_ptr<Attachment> a) {
  bool failed = false;
  if (!a->resume.empty()) {
    failed = !co_await ws.write(a->resume, !c->binary());
    a->resume.clear();
  }
  while (!failed && !a->ended) {
    auto text = c->take_output();
    if (text.empty()) {
      if (c->closing || c->gone) break;
      co_await c->output.wait();
      // Woken by a message: let those already arriving join it in one
      // write. A broadcast reaches many connections at once, and the
      // backplane's next message is often already read, or readable (two
      // quiet turns wait for one the loop has polled but not yet read).
      co_await c->output.gather(kGather, 2, [&] { return a->ended; });
      continue;
    }
    // MessagePack: binary frames, the handshake answer too.
    if (!co_await ws.write(text, !c->binary())) break;
  }
  if (c->closing && !a->ended) co_await ws.close();
  a->writing = false;
  a->done.cancel();
}

}  // namespace

asio::awaitable<void> run_websockets(std::shared_ptr<Hub> hub, std::shared_ptr<Connection> c,
                                     std::string instance_id, beast::tcp_stream& stream,
                                     http::Request request) {
  http::WebSocketOptions options;  // Beast's suggested server timeouts
  options.read_limit = hub->options().max_message_bytes * 4;
  options.instance_id = std::move(instance_id);
  // A connection that already had a WebSocket: stateful reconnect (the
  // endpoint let nothing else through).
  const bool resuming = c->transport == TransportKind::websockets;
  auto socket = co_await http::accept_websocket(stream, request, std::move(options));
  if (!socket) {
    if (!resuming) hub->remove(c);
    co_return;
  }
  Socket& ws = *socket;
  if (c->gone || c->closing) co_return;  // it ended while this one was accepted
  auto ex = co_await asio::this_coro::executor;
  auto a = std::make_shared<Attachment>(ex);
  if (resuming) a->resume = hub->resume(c);
  c->transport = TransportKind::websockets;
  c->started = Connection::Clock::now();
  c->supersede = [a, &stream] {
    a->ended = true;
    boost::system::error_code ignored;
    stream.socket().close(ignored);
  };
  asio::co_spawn(ex, write_loop(c, ws, a), asio::detached);
  beast::flat_buffer buffer;
  while (!c->closing && !a->ended) {
    bool text = false;
    if (!co_await ws.read(buffer, text) || a->ended) break;
    hub->receive(c, beast::buffers_to_string(buffer.data()));
  }
  if (!a->ended) c->supersede = nullptr;  // else a newer WebSocket's took its place
  if (!a->ended && !c->closing && !c->gone && c->stateful) {
    // Lost, not closed: keep the connection for the client's next WebSocket.
    a->ended = true;
    hub->detach(c);
  }
  if (a->ended) {  // the connection lives on without this WebSocket
    c->output.wake();
    while (a->writing) co_await a->done.async_wait(use_nothrow);
    co_return;
  }
  // Either the client went away (read failed) or the hub closes: in both
  // cases the writer flushes what it can, then stops.
  if (!c->closing) {
    c->output.clear();
    hub->remove(c);
  }
  c->closing = true;
  c->output.wake();
  while (a->writing) co_await a->done.async_wait(use_nothrow);
  hub->remove(c);
  // Drain the client's close reply so the socket shuts down cleanly.
  stream.expires_after(std::chrono::seconds(5));
  for (bool text = false; co_await ws.read(buffer, text);) {
  }
}

}  // namespace tether::realtime
