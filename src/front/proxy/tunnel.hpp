#pragma once
// Private to src/front/proxy: the tunnel phase. After a 101 Switching
// Protocols the client and the instance talk directly; the front door copies
// bytes both ways without parsing frames. One template over the stream
// types, for plain and TLS clients alike, with one half-close behaviour: EOF
// from one side shuts the other side's send direction and the other
// direction keeps going; when both directions ended, or on any error, both
// ends are closed. On a plain stream a direction holds no buffer while idle
// (it awaits readiness first); a TLS stream keeps one 16 KiB buffer per
// direction (its records cannot be peeked at).
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "tether/front/front_server.hpp"
#include "tether/front/instance_table.hpp"

#include "stream_ops.hpp"

namespace tether::front::proxy {

// What the relay hands over after a 101: the instance's stream, the bytes
// each side sent past the HTTP headers, and the instance (for its tunnel
// count; null when the tunnel does not count on one).
template <class Upstream>
struct TunnelHandoff {
  Upstream upstream;
  std::string to_upstream;  // bytes the client sent after its request header
  std::string to_client;    // bytes the instance sent after its 101 header
  std::shared_ptr<Instance> instance;
};

// The part of a live tunnel the worker's idle sweep sees (not a template).
struct TunnelState {
  std::int64_t last_activity = now_ms();
  bool idle_timeout = false;         // closed by the sweep for idleness
  int directions_done = 0;           // directions that passed an EOF on
  std::function<void()> close_both;  // set by run_tunnel while it runs
};

namespace detail {

inline constexpr std::size_t kTunnelChunk = 16 * 1024;

inline bool is_eof(const boost::system::error_code& ec) {
  return ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated;
}

// Copies `from` -> `to` (first `pending`) until EOF (passed on with a
// half-close) or an error (both ends closed).
template <class From, class To>
boost::asio::awaitable<void> copy_direction(From& from, To& to, std::string pending,
                                            TunnelState& st) {
  namespace asio = boost::asio;
  constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
  if (!pending.empty()) {
    auto [ec, n] = co_await asio::async_write(to, asio::buffer(pending), nothrow);
    std::string().swap(pending);
    if (ec) {
      st.close_both();
      co_return;
    }
  }
  std::unique_ptr<char[]> buf;  // on a waitable stream: only while bytes are in flight
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = 0;
    if constexpr (kWaitable<From>) {
      auto [wec] = co_await from.socket().async_wait(asio::ip::tcp::socket::wait_read, nothrow);
      if (wec) {
        st.close_both();  // closed under us: stop, idle, the other side failed
        co_return;
      }
      buf = std::make_unique<char[]>(kTunnelChunk);
      n = from.socket().read_some(asio::buffer(buf.get(), kTunnelChunk), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        buf.reset();
        continue;
      }
    } else {
      if (!buf) buf = std::make_unique<char[]>(kTunnelChunk);
      std::tie(ec, n) =
          co_await from.async_read_some(asio::buffer(buf.get(), kTunnelChunk), nothrow);
    }
    if (is_eof(ec)) {
      half_close(to);
      if (++st.directions_done == 2) st.close_both();
      co_return;
    }
    if (ec) {
      st.close_both();
      co_return;
    }
    st.last_activity = now_ms();
    auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.get(), n), nothrow);
    if (wec) {
      st.close_both();
      co_return;
    }
    st.last_activity = now_ms();
    if constexpr (kWaitable<From>) buf.reset();
  }
}

}  // namespace detail

// Copies bytes both ways between `client` and `upstream` until both
// directions ended (see the file comment), first `to_upstream` and
// `to_client`. Sets st.close_both for the idle sweep while it runs (the
// sweep may call it at any time; it only closes). Never fails: every I/O
// error ends the tunnel with both ends closed. Runs once per pair.
template <class Client, class Upstream>
boost::asio::awaitable<void> run_tunnel(Client& client, Upstream& upstream, std::string to_upstream,
                                        std::string to_client, TunnelState& st) {
  using namespace boost::asio::experimental::awaitable_operators;
  clear_deadline(client);
  clear_deadline(upstream);
  boost::system::error_code ignored;
  if constexpr (kWaitable<Client>) client.socket().non_blocking(true, ignored);
  if constexpr (kWaitable<Upstream>) upstream.socket().non_blocking(true, ignored);
  st.close_both = [&client, &upstream] {
    close_stream(client);
    close_stream(upstream);
  };
  co_await (detail::copy_direction(client, upstream, std::move(to_upstream), st) &&
            detail::copy_direction(upstream, client, std::move(to_client), st));
  st.close_both();
  st.close_both = nullptr;
}

using TlsClient = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// The real pairs, instantiated once in tunnel.cpp.
extern template boost::asio::awaitable<void> run_tunnel(boost::beast::tcp_stream&,
                                                        boost::beast::tcp_stream&, std::string,
                                                        std::string, TunnelState&);
extern template boost::asio::awaitable<void> run_tunnel(TlsClient&, boost::beast::tcp_stream&,
                                                        std::string, std::string, TunnelState&);

// Starts the tunnel of client connection `connection_id` on `w`: the tunnel
// owns both streams and lives on its own (the connection's coroutine and
// its buffers end); it keeps the worker's registry, the tunnel counters and
// the instance's tunnel count right, and the worker's sweep closes it after
// timeouts.tunnel_idle without traffic. Runs on w's thread.
void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id,
                  boost::beast::tcp_stream client, TunnelHandoff<boost::beast::tcp_stream> h);
void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id, TlsClient client,
                  TunnelHandoff<boost::beast::tcp_stream> h);

// Closes `w`'s tunnels that saw no traffic for `idle_ms` (called by the
// worker's periodic sweep).
void sweep_idle_tunnels(FrontServer::Worker& w, std::int64_t now, std::int64_t idle_ms);

}  // namespace tether::front::proxy
