#pragma once
// Reading a request header under a deadline that cancels the read instead of
// closing the socket (beast::tcp_stream's own timeout closes it), so that the
// server can still answer 408.
#include <chrono>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>

namespace tether::http {

// Reads the header of `parser` from `stream` into `buffer`. Returns the read's
// error, or beast::error::timeout when `limit` passed first (the socket stays
// open). Leaves the stream with no expiry set.
template <class Stream, class Parser>
boost::asio::awaitable<boost::beast::error_code> read_header_within(
    Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser,
    std::chrono::milliseconds limit) {
  namespace asio = boost::asio;
  struct Deadline {
    bool done = false;
    bool fired = false;
  };
  auto state = std::make_shared<Deadline>();
  auto& lowest = boost::beast::get_lowest_layer(stream);
  lowest.expires_never();
  asio::steady_timer timer(co_await asio::this_coro::executor, limit);
  timer.async_wait([state, &lowest](const boost::system::error_code& ec) {
    if (ec || state->done) return;  // read finished first: `stream` may be gone
    state->fired = true;
    boost::system::error_code ignored;
    lowest.socket().cancel(ignored);
  });
  auto [ec, n] = co_await boost::beast::http::async_read_header(
      stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
  state->done = true;
  timer.cancel();
  if (state->fired) ec = boost::beast::error::timeout;
  co_return ec;
}

}  // namespace tether::http
