#include "tether/host/websocket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

namespace tether::host {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct WebSocket::Impl {
  Impl(beast::tcp_stream& s, http::Request r, InstanceInfo i)
      : ws(s), request(std::move(r)), instance(std::move(i)) {}
  websocket::stream<beast::tcp_stream&> ws;
  http::Request request;
  InstanceInfo instance;
  beast::flat_buffer buffer;
  bool open = true;
};

WebSocket::WebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebSocket::~WebSocket() = default;

asio::awaitable<std::optional<std::string>> WebSocket::receive() {
  if (!impl_->open) co_return std::nullopt;
  impl_->buffer.clear();
  auto [ec, n] = co_await impl_->ws.async_read(impl_->buffer, use_nothrow);
  if (ec) {
    impl_->open = false;
    co_return std::nullopt;
  }
  co_return beast::buffers_to_string(impl_->buffer.data());
}

asio::awaitable<bool> WebSocket::send(std::string message, bool binary) {
  if (!impl_->open) co_return false;
  impl_->ws.binary(binary);
  auto [ec, n] = co_await impl_->ws.async_write(asio::buffer(message), use_nothrow);
  if (ec) impl_->open = false;
  co_return !ec;
}

asio::awaitable<void> WebSocket::close() {
  if (!impl_->open) co_return;
  impl_->open = false;
  co_await impl_->ws.async_close(websocket::close_code::normal, use_nothrow);
}

const http::Request& WebSocket::request() const { return impl_->request; }
const InstanceInfo& WebSocket::instance() const { return impl_->instance; }

namespace {

// Accepts the upgrade on `stream` and runs `handler` until it returns.
asio::awaitable<void> serve_websocket(WebSocketHandler handler, InstanceInfo instance,
                                      beast::tcp_stream& stream, http::Request req) {
  auto impl = std::make_unique<WebSocket::Impl>(stream, req, std::move(instance));
  impl->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  impl->ws.set_option(websocket::stream_base::decorator(
      [id = impl->instance.id](websocket::response_type& res) { res.set("X-Instance-Id", id); }));
  auto [ec] = co_await impl->ws.async_accept(req, use_nothrow);
  if (ec) co_return;
  WebSocket peer(std::move(impl));
  co_await handler(peer);
}

}  // namespace

void add_websocket_route(Router& router, std::string pattern, WebSocketHandler handler) {
  router.get(std::move(pattern), [handler](Context& c) {
    if (!websocket::is_upgrade(c.request)) {
      c.response.set(boost::beast::http::field::upgrade, "websocket");
      c.reply(426, "426 Upgrade Required: this is a WebSocket endpoint\n");
      return;
    }
    InstanceInfo instance = c.instance;
    *c.take_over = [handler, instance](beast::tcp_stream& s, http::Request req) {
      return serve_websocket(handler, instance, s, std::move(req));
    };
  });
}

}  // namespace tether::host
