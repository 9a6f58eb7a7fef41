#include "tether/http/client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace tether::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct Client::Impl {
  std::string host;
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  ClientTls tls;
  asio::io_context ctx;
  std::unique_ptr<ssl::context> tls_ctx;  // made on the first TLS connect
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool last_reused = false;

  bool open() const { return plain || secure; }
  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Runs the queued operations to completion (each has its deadline).
  void run() {
    ctx.restart();
    ctx.run();
  }

  void reset() {
    if (open()) {
      beast::error_code ignored;
      lowest().socket().close(ignored);
    }
    plain.reset();
    secure.reset();
  }

  [[noreturn]] void fail(beast::error_code ec, const std::string& what) {
    reset();
    // A plain code: Asio's carries its source location, which only clutters
    // the message a user sees.
    throw boost::system::system_error(beast::error_code(ec.value(), ec.category()),
                                      what + " " + host + ":" + std::to_string(port));
  }

  void connect() {
    tcp::resolver resolver(ctx);
    auto results = resolver.resolve(host, std::to_string(port));
    if (tls == ClientTls::off) {
      plain = std::make_unique<beast::tcp_stream>(ctx);
    } else {
      if (!tls_ctx) {
        tls_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
        tls_ctx->set_default_verify_paths();
        tls_ctx->set_verify_mode(ssl::verify_peer);
      }
      secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ctx, *tls_ctx);
    }
    lowest().expires_after(timeout);
    beast::error_code ec;
    lowest().async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec) fail(ec, "connect");
    if (secure) {
      beast::error_code not_ip;
      asio::ip::make_address(host, not_ip);
      if (not_ip && !SSL_set_tlsext_host_name(secure->native_handle(), host.c_str()))
        fail(beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()),
             "tls sni");
      secure->set_verify_callback(ssl::host_name_verification(host));
      secure->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
      run();
      if (ec) fail(ec, "tls handshake");
    }
    buffer.clear();
  }

  template <class Stream>
  void exchange(Stream& stream, Request& req, Response& res, beast::error_code& ec) {
    bhttp::async_write(stream, req, [&](beast::error_code e, std::size_t) {
      if (e) {
        ec = e;
        return;
      }
      bhttp::async_read(stream, buffer, res, [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    run();
  }
};

Client::Client(std::string host, std::uint16_t port, std::chrono::milliseconds timeout,
               ClientTls tls)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
  impl_->tls = tls;
}

Client::~Client() = default;

Response Client::send(Request req) {
  auto& d = *impl_;
  d.last_reused = d.open();
  if (!d.open()) d.connect();
  if (req.find(bhttp::field::host) == req.end()) {
    bool default_port = (d.tls == ClientTls::off && d.port == 80) ||
                        (d.tls != ClientTls::off && d.port == 443);
    req.set(bhttp::field::host, default_port ? d.host : d.host + ":" + std::to_string(d.port));
  }
  if (req.version() == 0) req.version(11);
  req.prepare_payload();
  Response res;
  beast::error_code ec;
  d.lowest().expires_after(d.timeout);
  if (d.secure)
    d.exchange(*d.secure, req, res, ec);
  else
    d.exchange(*d.plain, req, res, ec);
  if (ec) d.fail(ec, "http " + std::string(req.target()));
  if (!res.keep_alive()) d.reset();
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

void Client::close() { impl_->reset(); }

bool Client::connected() const { return impl_->open(); }

bool Client::last_send_reused() const { return impl_->last_reused; }

std::uint16_t Client::local_port() const {
  if (!impl_->open()) return 0;
  beast::error_code ignored;
  return impl_->lowest().socket().local_endpoint(ignored).port();
}

}  // namespace tether::http
