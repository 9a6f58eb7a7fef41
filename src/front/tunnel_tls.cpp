#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/ssl.hpp>

#include "tunnel.hpp"

namespace tether::front {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

struct TlsTunnel {
  TlsStream& client;
  tcp::socket upstream;
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
  bool idle_timeout = false;

  void close_both() {
    boost::system::error_code ignored;
    beast::get_lowest_layer(client).socket().close(ignored);
    upstream.close(ignored);
  }
};

template <class From, class To>
asio::awaitable<void> copy(TlsTunnel& t, From& from, To& to, std::string pending) {
  if (!pending.empty()) {
    auto [ec, n] = co_await asio::async_write(to, asio::buffer(pending), use_nothrow);
    if (ec) {
      t.close_both();
      co_return;
    }
  }
  std::array<char, 16 * 1024> buf;
  for (;;) {
    auto [rec, n] = co_await from.async_read_some(asio::buffer(buf), use_nothrow);
    if (rec) break;
    t.last_activity = std::chrono::steady_clock::now();
    auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_nothrow);
    if (wec) break;
  }
  t.close_both();  // EOF or error on either side ends the whole tunnel
}

asio::awaitable<void> tls_watchdog(TlsTunnel& t, std::chrono::milliseconds idle) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    auto quiet = std::chrono::steady_clock::now() - t.last_activity;
    if (quiet >= idle) {
      t.idle_timeout = true;
      t.close_both();
      co_return;
    }
    timer.expires_after(idle - quiet);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
  }
}

}  // namespace

asio::awaitable<bool> run_tunnel_tls(TlsStream& client, TunnelHandoff handoff,
                                     std::chrono::milliseconds idle) {
  beast::get_lowest_layer(client).expires_never();
  TlsTunnel t{client, std::move(handoff.upstream)};
  co_await ((copy(t, client, t.upstream, std::move(handoff.to_upstream)) &&
             copy(t, t.upstream, client, std::move(handoff.to_client))) ||
            tls_watchdog(t, idle));
  t.close_both();
  co_return t.idle_timeout;
}

}  // namespace tether::front
