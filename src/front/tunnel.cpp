#include "tunnel.hpp"

#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace tether::front {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::size_t kChunk = 16 * 1024;

struct Shared {
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
  bool failed = false;
  bool idle_timeout = false;
  int open_directions = 2;
};

void close_both(TunnelEnds& e) {
  boost::system::error_code ignored;
  e.client.close(ignored);
  e.upstream.close(ignored);
}

// One direction: wait until `from` is readable, read what is there into a
// short-lived buffer, write it all to `to`. EOF half-closes `to`.
asio::awaitable<void> pump(TunnelEnds& ends, tcp::socket& from, tcp::socket& to,
                           std::string pending, Shared& shared, std::uint64_t& counter) {
  if (!pending.empty()) {
    auto [ec, n] = co_await asio::async_write(to, asio::buffer(pending), use_nothrow);
    if (ec) {
      shared.failed = true;
      close_both(ends);
      co_return;
    }
    counter += n;
    pending = std::string();
  }
  for (;;) {
    auto [wec] = co_await from.async_wait(tcp::socket::wait_read, use_nothrow);
    if (wec) {  // closed under us (stop, idle, the other direction failed)
      close_both(ends);
      break;
    }
    auto buf = std::make_unique<char[]>(kChunk);
    boost::system::error_code rec;
    std::size_t n = from.read_some(asio::buffer(buf.get(), kChunk), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) continue;
    if (rec == asio::error::eof) {
      boost::system::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
    if (rec) {
      shared.failed = true;
      close_both(ends);
      break;
    }
    shared.last_activity = std::chrono::steady_clock::now();
    auto [ec, written] = co_await asio::async_write(to, asio::buffer(buf.get(), n), use_nothrow);
    if (ec) {
      shared.failed = true;
      close_both(ends);
      break;
    }
    counter += written;
    shared.last_activity = std::chrono::steady_clock::now();
  }
  if (--shared.open_directions == 0) close_both(ends);
}

// Closes both ends after `idle` without traffic; ends when the tunnel does.
asio::awaitable<void> watchdog(TunnelEnds& ends, Shared& shared, std::chrono::milliseconds idle) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    auto quiet = std::chrono::steady_clock::now() - shared.last_activity;
    if (quiet >= idle) {
      shared.idle_timeout = true;
      close_both(ends);
      co_return;
    }
    timer.expires_after(idle - quiet);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
  }
}

}  // namespace

asio::awaitable<TunnelResult> run_tunnel(TunnelEnds& ends, std::chrono::milliseconds idle) {
  Shared shared;
  TunnelResult result;
  ends.client.non_blocking(true);
  ends.upstream.non_blocking(true);
  co_await ((pump(ends, ends.client, ends.upstream, std::move(ends.to_upstream), shared,
                  result.bytes_to_upstream) &&
             pump(ends, ends.upstream, ends.client, std::move(ends.to_client), shared,
                  result.bytes_to_client)) ||
            watchdog(ends, shared, idle));
  close_both(ends);
  result.idle_timeout = shared.idle_timeout;
  co_return result;
}

}  // namespace tether::front
