#pragma once
// Private to src/front: one client connection through the front door, as a
// template over the client stream (plain beast::tcp_stream or TLS
// beast::ssl_stream), instantiated in proxy_connection_plain.cpp and
// proxy_connection_tls.cpp. The connection's loop lives here: (TLS
// handshake,) read a request header and judge it, then one exchange through
// the proxy phases (proxy/relay.hpp draws them, docs/architecture.md too),
// and a tunnel at the end after a 101.
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl.hpp>

#include "tether/http/message_rules.hpp"
#include "tether/http/parse_errors.hpp"
#include "tether/http/read_header.hpp"

#include "drained_read.hpp"
#include "h2_connection.hpp"
#include "proxy/relay.hpp"
#include "proxy/tunnel.hpp"
#include "worker.hpp"

namespace tether::front {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

using proxy::ClientSide;

// Removes the connection from the worker's registry on every exit path.
struct Registration {
  FrontServer::Worker& w;
  std::uint64_t id;
  bool handed_off = false;  // a tunnel took the connection over
  ~Registration() {
    if (handed_off) return;
    w.clients.erase(id);
    w.shared.stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
  }
};

// Who the client is, read once from its socket.
inline ClientSide client_side(tcp::socket& socket, std::uint64_t connection_id, bool https) {
  ClientSide cs;
  cs.id = connection_id;
  cs.https = https;
  beast::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  cs.ip = remote.address().to_string();
  cs.port = std::to_string(remote.port());
  auto local = socket.local_endpoint(ec);
  cs.local = local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                     : local.address().to_string();
  cs.local += ':';
  cs.local += std::to_string(local.port());
  socket.set_option(tcp::no_delay(true), ec);
  return cs;
}

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

// Serves one client connection until it closes: (TLS handshake,) requests
// one after another, and possibly a tunnel at the end.
template <class Stream>
asio::awaitable<void> serve_client(FrontServer::Worker& w, Stream& client, ClientSide cs) {
  auto& sh = w.shared;
  const auto& cfg = sh.config;
  auto& lowest = beast::get_lowest_layer(client);
  w.clients[cs.id] = {&lowest.socket(), false};
  Registration reg{w, cs.id};
  beast::flat_buffer cbuf(cfg.limits.max_header_bytes + 16 * 1024);
  // HTTP/2: chosen by ALPN on TLS, by the connection preface on cleartext.
  bool h2 = false, ended = false;
  if constexpr (kIsTls<Stream>) {
    lowest.expires_after(cfg.timeouts.client_header);
    auto [hec] = co_await client.async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (hec) {
      sh.log->debug("conn={} TLS handshake from {}:{} failed: {}", cs.id, cs.ip, cs.port,
                    hec.message());
      sh.stats.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
      co_return;
    }
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(client.native_handle(), &alpn, &alpn_len);
    h2 = alpn_len == 2 && alpn[0] == 'h' && alpn[1] == '2';
  } else if (cfg.http2.h2c) {
    for (bool complete = false;;) {
      std::string_view seen(static_cast<const char*>(cbuf.data().data()), cbuf.size());
      if (!h2::preface_prefix(seen, complete)) break;  // HTTP/1.1: the loop below judges it
      if (complete) {
        h2 = true;
        break;
      }
      lowest.expires_after(cfg.timeouts.client_header);
      auto [ec, n] = co_await client.async_read_some(cbuf.prepare(4096), use_nothrow);
      if (ec) {
        ended = true;
        break;
      }
      cbuf.commit(n);
    }
  }
  if (h2) {
    co_await h2::serve_h2(w, client, cbuf, cs);
    ended = true;
  }
  bool first = true;
  proxy::PooledUpstreams upstreams{w};

  for (; !ended;) {
    if (sh.stopping.load(std::memory_order_relaxed)) break;
    if (!first && cbuf.size() == 0) {
      // Keep-alive: wait for the next request's first byte.
      auto& entry = w.clients[cs.id];
      entry.idle = true;
      std::size_t n = 0;
      beast::error_code ec;
      if constexpr (!kIsTls<Stream>) {
        // Without the EAGAIN read (drained_read.hpp), under the worker's
        // sweep instead of the stream's timer.
        SweptDeadline deadline(w, lowest.socket(), now_ms() + cfg.timeouts.client_idle.count());
        std::tie(ec, n) =
            co_await async_read_drained(lowest.socket(), cbuf.prepare(4096), use_nothrow);
      } else {
        lowest.expires_after(cfg.timeouts.client_idle);
        std::tie(ec, n) = co_await client.async_read_some(cbuf.prepare(4096), use_nothrow);
      }
      entry.idle = false;
      if (ec) break;
      cbuf.commit(n);
    }
    first = false;
    proxy::RequestParser rp;
    rp.header_limit(cfg.limits.max_header_bytes);
    if (cfg.limits.max_body_bytes) rp.body_limit(cfg.limits.max_body_bytes);
    else rp.body_limit(boost::none);
    // Usually the whole header is already buffered: parse it in place, and
    // only read (under the slowloris deadline) when more is needed.
    beast::error_code ec;
    if (cbuf.size() > 0) {
      cbuf.consume(rp.put(cbuf.data(), ec));
      if (ec == bhttp::error::need_more) ec = {};
    }
    if (!ec && !rp.is_header_done())
      ec = co_await http::read_header_within(client, cbuf, rp, cfg.timeouts.client_header);
    if (ec) {
      int status = http::status_for_read_error(ec, cbuf.size() > 0 || rp.got_some());
      if (status) {
        sh.log->info("conn={} bad request from {}:{}: {} -> {}", cs.id, cs.ip, cs.port,
                     ec.message(), status);
        sh.stats.count_status(static_cast<unsigned>(status));
        std::string body = std::to_string(status) + " " + http::short_reason(status) + "\n";
        co_await proxy::send_reply(client, status, std::move(body), 11, cfg.timeouts.client_header);
      }
      break;
    }
    // What the request means, decided once (RFC 9112): refused here when
    // two readings are possible, so no instance ever sees it.
    const http::RequestReading reading =
        http::read_request(rp.get(), rp.chunked(), rp.content_length());
    if (reading.fault != http::MessageFault::none) {
      const int status = http::status_for(reading.fault);
      sh.log->info("conn={} refused request from {}:{}: {}: {} -> {}", cs.id, cs.ip, cs.port,
                   http::describe(reading.fault), reading.detail, status);
      sh.stats.count_status(static_cast<unsigned>(status));
      sh.stats.requests_refused.fetch_add(1, std::memory_order_relaxed);
      std::string body = std::to_string(status) + " " + http::short_reason(status) + ": " +
                         http::describe(reading.fault) + "\n";
      co_await proxy::send_reply(client, status, std::move(body), 11, cfg.timeouts.client_header);
      break;
    }
    auto exchanged = co_await proxy::relay_exchange(w, upstreams, client, cbuf, rp, reading, cs);
    if (exchanged.after == proxy::After::tunnel) {
      // --- tunnel (after a 101): it lives on its own; this coroutine (and
      // its buffers) ends.
      reg.handed_off = true;
      proxy::start_tunnel(w, cs.id, std::move(client), std::move(*exchanged.tunnel));
      co_return;
    }
    if (exchanged.after != proxy::After::keep_alive) break;
  }
  beast::error_code ignored;
  if constexpr (kIsTls<Stream>) {
    lowest.expires_after(std::chrono::seconds(1));
    co_await client.async_shutdown(use_nothrow);
  }
  lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
  lowest.socket().close(ignored);
}

}  // namespace
}  // namespace tether::front
