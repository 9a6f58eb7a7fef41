#pragma once
// Private to src/front: one HTTP/2 client connection (issue 15, part 2),
// after ALPN chose "h2" on the TLS listener or the client opened a cleartext
// connection with the HTTP/2 preface (h2c with prior knowledge). A template
// over the client stream (plain or TLS), instantiated with the HTTP/1.1
// connection loop in proxy_connection_plain.cpp and proxy_connection_tls.cpp.
//
// Two coroutines share the socket: this one reads and feeds nghttp2; the
// writer sends whatever nghttp2 queues (responses, WINDOW_UPDATEs, acks,
// GOAWAY). Each request stream runs in its own coroutine (run_stream,
// h2_stream.cpp) through the same proxy phases as an HTTP/1.1 request.
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include "drained_read.hpp"
#include "h2_session.hpp"
#include "proxy/rewrite.hpp"
#include "proxy/stream_ops.hpp"
#include "worker.hpp"

namespace tether::front::h2 {

// Runs one request stream through the proxy path (h2_stream.cpp).
boost::asio::awaitable<void> run_stream(FrontServer::Worker* w, std::shared_ptr<Session> session,
                                        std::shared_ptr<StreamState> st, proxy::ClientSide cs);

// What the reader and the writer of one connection share.
struct ConnectionState {
  explicit ConnectionState(asio::any_io_executor ex) : done_signal(ex), idle(ex) {}
  bool reading_done = false;  // the reader stopped: the writer flushes and ends
  bool writer_done = false;
  asio::steady_timer done_signal;  // the reader waits on it for the writer
  asio::steady_timer idle;         // the idle watchdog
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
};

// Sends what the session queues until the reader stopped and nothing is
// left, or a write fails. Each write is bounded by timeouts.client_body.
template <class Stream>
boost::asio::awaitable<void> write_loop(Stream& client, std::shared_ptr<Session> session,
                                        std::shared_ptr<ConnectionState> cs,
                                        std::chrono::milliseconds timeout) {
  constexpr auto use_nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  std::string out;
  for (;;) {
    out.clear();
    if (!session->take_output(out)) break;
    if (out.empty()) {
      if (cs->reading_done || !session->want_read()) break;
      auto& signal = session->output_signal();
      signal.expires_at(boost::asio::steady_timer::time_point::max());
      co_await signal.async_wait(use_nothrow);
      continue;
    }
    proxy::set_deadline(client, timeout);
    auto [ec, n] = co_await boost::asio::async_write(client, boost::asio::buffer(out), use_nothrow);
    proxy::clear_deadline(client);
    cs->last_activity = std::chrono::steady_clock::now();
    if (ec) break;
  }
  cs->writer_done = true;
  cs->done_signal.cancel();
  // The session is over (or the client stopped reading): the reader, maybe
  // waiting on a client that sends nothing, must end too.
  if (!cs->reading_done) proxy::close_stream(client);
}

// Closes the connection once it has had no open stream for `idle`.
template <class Stream>
boost::asio::awaitable<void> idle_watch(Stream& client, std::shared_ptr<Session> session,
                                        std::shared_ptr<ConnectionState> cs,
                                        std::chrono::milliseconds idle) {
  constexpr auto use_nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  while (!cs->reading_done) {
    cs->idle.expires_at(cs->last_activity + idle);
    auto [ec] = co_await cs->idle.async_wait(use_nothrow);
    if (cs->reading_done) break;
    if (ec) continue;  // re-armed
    if (session->open_streams() == 0 &&
        std::chrono::steady_clock::now() - cs->last_activity >= idle) {
      proxy::close_stream(client);
      break;
    }
    cs->last_activity = std::chrono::steady_clock::now();  // streams open: look again later
  }
}

// Serves the HTTP/2 connection on `client` until it ends. `cbuf` holds the
// bytes already read (the connection preface, maybe more).
template <class Stream>
boost::asio::awaitable<void> serve_h2(FrontServer::Worker& w, Stream& client,
                                      boost::beast::flat_buffer& cbuf,
                                      const proxy::ClientSide& side) {
  constexpr auto use_nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  auto& sh = w.shared;
  const auto& cfg = sh.config;
  auto ex = co_await boost::asio::this_coro::executor;
  auto session = std::make_shared<Session>(
      ex, cfg, sh.stats, sh.log, side.id,
      [wp = &w, side](std::shared_ptr<Session> s, std::shared_ptr<StreamState> st) {
        boost::asio::co_spawn(wp->ctx, run_stream(wp, std::move(s), std::move(st), side),
                              boost::asio::detached);
      });
  if (!session->start()) co_return;
  sh.stats.h2_connections.fetch_add(1, std::memory_order_relaxed);
  auto state = std::make_shared<ConnectionState>(ex);
  bool ok = session->receive(static_cast<const char*>(cbuf.data().data()), cbuf.size());
  cbuf.consume(cbuf.size());
  boost::asio::co_spawn(ex, write_loop(client, session, state, cfg.timeouts.client_body),
                        boost::asio::detached);
  boost::asio::co_spawn(ex, idle_watch(client, session, state, cfg.timeouts.client_idle),
                        boost::asio::detached);
  std::array<char, 16 * 1024> buf;
  proxy::clear_deadline(client);
  while (ok && session->want_read() && !sh.stopping.load(std::memory_order_relaxed)) {
    w.clients[side.id].idle = session->open_streams() == 0;
    boost::system::error_code ec;
    std::size_t n = 0;
    if constexpr (proxy::kWaitable<Stream>)  // no EAGAIN read first (drained_read.hpp)
      std::tie(ec, n) = co_await async_read_drained(proxy::socket_of(client),
                                                    boost::asio::buffer(buf), use_nothrow);
    else
      std::tie(ec, n) = co_await client.async_read_some(boost::asio::buffer(buf), use_nothrow);
    w.clients[side.id].idle = false;
    if (ec) break;
    state->last_activity = std::chrono::steady_clock::now();
    ok = session->receive(buf.data(), n);
  }
  // Let the writer send what is queued (a GOAWAY), then end every stream.
  state->reading_done = true;
  state->idle.cancel();
  session->notify_output();
  while (!state->writer_done) {
    state->done_signal.expires_after(std::chrono::seconds(2));
    auto [ec] = co_await state->done_signal.async_wait(use_nothrow);
    if (!ec && !state->writer_done) {
      proxy::close_stream(client);  // a writer stuck on a client that reads nothing
    }
  }
  session->abort_streams();
}

}  // namespace tether::front::h2
