#include "tether/host/websocket.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "tether/http/websocket.hpp"

namespace tether::host {

namespace beast = boost::beast;

struct WebSocket::Impl {
  Impl(std::unique_ptr<http::WebSocket> s, http::Request r, InstanceInfo i)
      : socket(std::move(s)), request(std::move(r)), instance(std::move(i)) {}
  std::unique_ptr<http::WebSocket> socket;
  http::Request request;
  InstanceInfo instance;
  beast::flat_buffer buffer;
  bool open = true;
};

WebSocket::WebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebSocket::~WebSocket() = default;

asio::awaitable<std::optional<std::string>> WebSocket::receive() {
  if (!impl_->open) co_return std::nullopt;
  bool text = false;
  if (!co_await impl_->socket->read(impl_->buffer, text)) {
    impl_->open = false;
    co_return std::nullopt;
  }
  co_return beast::buffers_to_string(impl_->buffer.data());
}

asio::awaitable<bool> WebSocket::send(std::string message, bool binary) {
  if (!impl_->open) co_return false;
  bool ok = co_await impl_->socket->write(message, !binary);
  if (!ok) impl_->open = false;
  co_return ok;
}

asio::awaitable<void> WebSocket::close() {
  if (!impl_->open) co_return;
  impl_->open = false;
  co_await impl_->socket->close();
}

const http::Request& WebSocket::request() const { return impl_->request; }
const InstanceInfo& WebSocket::instance() const { return impl_->instance; }

namespace {

// Accepts the upgrade on `stream` and runs `handler` until it returns.
asio::awaitable<void> serve_websocket(WebSocketHandler handler, InstanceInfo instance,
                                      beast::tcp_stream& stream, http::Request req) {
  http::WebSocketOptions options;  // Beast's suggested server timeouts
  options.instance_id = instance.id;
  auto socket = co_await http::accept_websocket(stream, req, std::move(options));
  if (!socket) co_return;
  WebSocket peer(
      std::make_unique<WebSocket::Impl>(std::move(socket), std::move(req), std::move(instance)));
  co_await handler(peer);
}

}  // namespace

void add_websocket_route(Router& router, std::string pattern, WebSocketHandler handler) {
  router.get(std::move(pattern), [handler](Context& c) {
    if (!boost::beast::websocket::is_upgrade(c.request)) {
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
