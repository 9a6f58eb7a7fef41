#include "support/ws_client.hpp"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

namespace tether::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

struct WsClient::Impl {
  asio::io_context ctx;
  websocket::stream<beast::tcp_stream> ws{ctx};
  beast::flat_buffer buffer;
  websocket::response_type handshake;
  http::Response handshake_copy;

  // Runs the io_context until `done` or `limit`; on timeout closes the socket.
  void run(bool& done, std::chrono::seconds limit) {
    ctx.restart();
    ctx.run_for(limit);
    if (!done) {
      beast::get_lowest_layer(ws).close();
      ctx.restart();
      ctx.run();
    }
  }
};

WsClient::WsClient(std::uint16_t port, const std::string& target, const std::string& cookie,
                   std::chrono::seconds limit, std::vector<std::string> headers)
    : impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  beast::get_lowest_layer(d.ws).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  d.ws.set_option(
      websocket::stream_base::decorator([cookie, headers](websocket::request_type& req) {
        if (!cookie.empty()) req.set(beast::http::field::cookie, cookie);
        for (const auto& h : headers) {
          auto colon = h.find(':');
          req.set(h.substr(0, colon), h.substr(h.find_first_not_of(' ', colon + 1)));
        }
      }));
  bool done = false;
  beast::error_code ec;
  d.ws.async_handshake(d.handshake, "127.0.0.1:" + std::to_string(port), target,
                       [&](beast::error_code e) {
                         ec = e;
                         done = true;
                       });
  d.run(done, limit);
  if (!done) throw std::runtime_error("websocket handshake timed out");
  if (ec)
    throw std::runtime_error("websocket handshake failed: " + ec.message() + " (status " +
                             std::to_string(d.handshake.result_int()) + ")");
  d.handshake_copy.result(d.handshake.result());
  for (const auto& f : d.handshake) d.handshake_copy.insert(f.name_string(), f.value());
}

WsClient::~WsClient() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

const http::Response& WsClient::handshake() const { return impl_->handshake_copy; }

void WsClient::send(const std::string& text) {
  auto& d = *impl_;
  bool done = false;
  beast::error_code ec;
  d.ws.async_write(asio::buffer(text), [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  d.run(done, std::chrono::seconds(30));
  if (!done || ec) throw std::runtime_error("websocket send failed: " + ec.message());
}

std::optional<std::string> WsClient::receive(std::chrono::seconds limit) {
  auto& d = *impl_;
  d.buffer.clear();
  bool done = false;
  beast::error_code ec;
  d.ws.async_read(d.buffer, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  d.run(done, limit);
  if (!done || ec) return std::nullopt;
  return beast::buffers_to_string(d.buffer.data());
}

void WsClient::close() {
  auto& d = *impl_;
  bool done = false;
  d.ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  d.run(done, std::chrono::seconds(10));
}

}  // namespace tether::test
