#include "tether/http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace tether::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Client::Impl {
  std::string host;
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context ctx;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void connect() {
    tcp::resolver resolver(ctx);
    auto results = resolver.resolve(host, std::to_string(port));
    stream = std::make_unique<beast::tcp_stream>(ctx);
    stream->expires_after(timeout);
    beast::error_code ec;
    stream->async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    ctx.restart();
    ctx.run();
    if (ec) {
      stream.reset();
      throw boost::system::system_error(ec, "connect " + host + ":" + std::to_string(port));
    }
    buffer.clear();
  }
};

Client::Client(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}

Client::~Client() = default;

Response Client::send(Request req) {
  auto& d = *impl_;
  if (!d.stream) d.connect();
  if (req.find(bhttp::field::host) == req.end())
    req.set(bhttp::field::host, d.host + ":" + std::to_string(d.port));
  if (req.version() == 0) req.version(11);
  req.prepare_payload();
  Response res;
  beast::error_code ec;
  d.stream->expires_after(d.timeout);
  bhttp::async_write(*d.stream, req, [&](beast::error_code e, std::size_t) {
    if (e) {
      ec = e;
      return;
    }
    bhttp::async_read(*d.stream, d.buffer, res,
                      [&](beast::error_code e2, std::size_t) { ec = e2; });
  });
  d.ctx.restart();
  d.ctx.run();
  if (ec) {
    close();
    throw boost::system::system_error(ec, "http " + std::string(req.target()));
  }
  if (!res.keep_alive()) close();
  return res;
}

Response Client::get(const std::string& target) {
  Request req{bhttp::verb::get, target, 11};
  return send(std::move(req));
}

Response Client::post(const std::string& target, std::string body,
                      const std::string& content_type) {
  Request req{bhttp::verb::post, target, 11};
  req.set(bhttp::field::content_type, content_type);
  req.body() = std::move(body);
  return send(std::move(req));
}

void Client::close() {
  if (impl_->stream) {
    beast::error_code ignored;
    impl_->stream->socket().close(ignored);
    impl_->stream.reset();
  }
}

bool Client::connected() const { return impl_->stream != nullptr; }

std::uint16_t Client::local_port() const {
  if (!impl_->stream) return 0;
  beast::error_code ignored;
  return impl_->stream->socket().local_endpoint(ignored).port();
}

}  // namespace tether::http
