#pragma once
// (Private to src/http.) The one implementation of http::WebSocket over a
// Beast websocket::stream, instantiated in websocket_server.cpp (over a
// taken-over tcp_stream) and websocket_client.cpp (plain and TLS clients).
#include <span>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>

#include "tether/http/websocket.hpp"

namespace tether::http::detail {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
constexpr auto ws_nothrow = asio::as_tuple(asio::use_awaitable);

inline std::string describe(const beast::error_code& ec) {
  return ec == beast::error::timeout ? "silent past the idle timeout" : ec.message();
}

// The stream's timeouts for `options` in `role`.
inline websocket::stream_base::timeout timeouts_for(const WebSocketOptions& options,
                                                    beast::role_type role) {
  if (!options.idle) return websocket::stream_base::timeout::suggested(role);
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(10);
  t.idle_timeout = *options.idle;
  t.keep_alive_pings = true;
  return t;
}

template <class Ws>
class BeastWebSocket final : public WebSocket {
 public:
  template <class... Args>
  explicit BeastWebSocket(Args&&... args) : ws_(std::forward<Args>(args)...) {}

  Ws& ws() { return ws_; }

  asio::awaitable<bool> read(beast::flat_buffer& buffer, bool& text) override {
    buffer.clear();
    // Beast must not be read again once a read failed or the stream closed
    // (it asserts): every later read fails the same way.
    if (read_failed_ || !ws_.is_open()) co_return false;
    auto [ec, n] = co_await ws_.async_read(buffer, ws_nothrow);
    if (ec) {
      read_failed_ = true;
      if (error_.empty()) error_ = describe(ec);
      co_return false;
    }
    text = ws_.got_text();
    co_return true;
  }

  asio::awaitable<bool> write(std::string_view message, bool text) override {
    ws_.text(text);
    auto [ec, n] =
        co_await ws_.async_write(asio::buffer(message.data(), message.size()), ws_nothrow);
    if (ec && error_.empty()) error_ = "write: " + describe(ec);
    co_return !ec;
  }

  asio::awaitable<bool> write(const std::vector<asio::const_buffer>& parts) override {
    ws_.binary(true);
    // A view, not the vector: Beast copies the buffer sequence into each
    // of its intermediate operations, and a batch has hundreds of parts.
    std::span<const asio::const_buffer> view(parts.data(), parts.size());
    auto [ec, n] = co_await ws_.async_write(view, ws_nothrow);
    if (ec && error_.empty()) error_ = "write: " + describe(ec);
    co_return !ec;
  }

  asio::awaitable<void> close() override {
    if (!ws_.is_open()) co_return;
    co_await ws_.async_close(websocket::close_code::normal, ws_nothrow);
  }

  void abort() override {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  void set_read_limit(std::size_t bytes) override { ws_.read_message_max(bytes); }

  std::string peer() const override {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
    if (ec) return "?";
    return ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  std::string error() const override { return error_; }

 private:
  Ws ws_;
  std::string error_;
  bool read_failed_ = false;
};

}  // namespace tether::http::detail
