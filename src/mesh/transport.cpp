#include "tether/mesh/transport.hpp"

#include <span>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>

#include "tether/mesh/handshake.hpp"

namespace tether::mesh {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

std::string describe(const beast::error_code& ec) {
  return ec == beast::error::timeout ? "silent for liveness" : ec.message();
}

websocket::stream_base::timeout mesh_timeouts(std::chrono::milliseconds liveness) {
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(10);
  t.idle_timeout = liveness;
  t.keep_alive_pings = true;
  return t;
}

template <class Ws>
class Transport final : public WsTransport {
 public:
  template <class... Args>
  explicit Transport(Args&&... args) : ws_(std::forward<Args>(args)...) {}

  Ws& ws() { return ws_; }

  asio::awaitable<bool> read(beast::flat_buffer& buffer, bool& text) override {
    buffer.clear();
    auto [ec, n] = co_await ws_.async_read(buffer, use_nothrow);
    if (ec) {
      if (error_.empty()) error_ = describe(ec);
      co_return false;
    }
    text = ws_.got_text();
    co_return true;
  }

  asio::awaitable<bool> write(const std::string& message, bool text) override {
    ws_.text(text);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(message), use_nothrow);
    if (ec && error_.empty()) error_ = "write: " + describe(ec);
    co_return !ec;
  }

  asio::awaitable<bool> write(const std::vector<asio::const_buffer>& parts) override {
    ws_.binary(true);
    // A view, not the vector: Beast copies the buffer sequence into each
    // of its intermediate operations, and a batch has hundreds of parts.
    std::span<const asio::const_buffer> view(parts.data(), parts.size());
    auto [ec, n] = co_await ws_.async_write(view, use_nothrow);
    if (ec && error_.empty()) error_ = "write: " + describe(ec);
    co_return !ec;
  }

  asio::awaitable<void> close() override {
    if (!ws_.is_open()) co_return;
    co_await ws_.async_close(websocket::close_code::normal, use_nothrow);
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
};

using PlainClient = Transport<websocket::stream<beast::tcp_stream>>;
using TlsClient = Transport<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>;
using Server = Transport<websocket::stream<beast::tcp_stream&>>;

// Joins every Set-Cookie's "name=value" with "; ".
std::string cookies_of(const websocket::response_type& res) {
  std::string out;
  auto [first, last] = res.equal_range(bhttp::field::set_cookie);
  for (auto it = first; it != last; ++it) {
    auto v = it->value();
    auto semi = v.find(';');
    auto pair = v.substr(0, semi);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    if (pair.empty()) continue;
    if (!out.empty()) out += "; ";
    out.append(pair.data(), pair.size());
  }
  return out;
}

template <class T>
asio::awaitable<DialResult> finish_dial(std::unique_ptr<T> t, std::string host, std::string target,
                                        std::string cookie, std::chrono::milliseconds liveness) {
  DialResult r;
  auto& ws = t->ws();
  ws.set_option(websocket::stream_base::decorator([cookie](websocket::request_type& req) {
    req.set(bhttp::field::user_agent, "tether-mesh/1");
    if (!cookie.empty()) req.set(bhttp::field::cookie, cookie);
  }));
  websocket::response_type res;
  auto [ec] = co_await ws.async_handshake(res, host, target, use_nothrow);
  if (ec) {
    r.error = "WebSocket handshake: " + ec.message();
    r.status = res.result_int();
    if (r.status != 0) r.error += " (HTTP " + std::to_string(r.status) + ")";
    co_return r;
  }
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(mesh_timeouts(liveness));
  ws.binary(true);
  r.set_cookie = cookies_of(res);
  r.instance_id = std::string(res["X-Instance-Id"]);
  r.transport = std::move(t);
  co_return r;
}

}  // namespace

asio::awaitable<DialResult> dial(asio::any_io_executor executor, std::string public_url,
                                 std::string cookie, asio::ssl::context* tls,
                                 std::chrono::milliseconds liveness,
                                 std::chrono::milliseconds timeout) {
  DialResult r;
  auto parsed = boost::urls::parse_uri(public_url);
  if (!parsed) {
    r.error = "bad public URL \"" + public_url + "\"";
    co_return r;
  }
  std::string scheme = parsed->scheme();
  bool secure = scheme == "https" || scheme == "wss";
  std::string host = parsed->host();
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string port = parsed->has_port() ? std::string(parsed->port()) : (secure ? "443" : "80");
  std::string path = parsed->path();
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string target = path + "/.tether/mesh";
  std::string host_header = parsed->has_port() ? host + ":" + port : host;

  tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_nothrow);
  if (rec) {
    r.error = "resolve " + host + ": " + rec.message();
    co_return r;
  }
  if (!secure) {
    auto t = std::make_unique<PlainClient>(executor);
    auto& tcp_layer = beast::get_lowest_layer(t->ws());
    tcp_layer.expires_after(timeout);
    auto [cec, ep] = co_await tcp_layer.async_connect(endpoints, use_nothrow);
    if (cec) {
      r.error = "connect " + host_header + ": " + cec.message();
      co_return r;
    }
    tcp_layer.socket().set_option(tcp::no_delay(true));
    co_return co_await finish_dial(std::move(t), host_header, target, cookie, liveness);
  }
  if (!tls) {
    r.error = "wss:// needs a TLS context";
    co_return r;
  }
  auto t = std::make_unique<TlsClient>(executor, *tls);
  auto& tcp_layer = beast::get_lowest_layer(t->ws());
  tcp_layer.expires_after(timeout);
  auto [cec, ep] = co_await tcp_layer.async_connect(endpoints, use_nothrow);
  if (cec) {
    r.error = "connect " + host_header + ": " + cec.message();
    co_return r;
  }
  tcp_layer.socket().set_option(tcp::no_delay(true));
  auto& ssl = t->ws().next_layer();
  SSL_set_tlsext_host_name(ssl.native_handle(), host.c_str());
  ssl.set_verify_callback(asio::ssl::host_name_verification(host));
  auto [hec] = co_await ssl.async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (hec) {
    r.error = "TLS handshake with " + host_header + ": " + hec.message();
    co_return r;
  }
  co_return co_await finish_dial(std::move(t), host_header, target, cookie, liveness);
}

asio::awaitable<std::unique_ptr<WsTransport>> accept(beast::tcp_stream& stream, http::Request req,
                                                     std::chrono::milliseconds liveness,
                                                     std::string instance_id) {
  auto t = std::make_unique<Server>(stream);
  auto& ws = t->ws();
  ws.read_message_max(kHelloReadLimit);
  ws.set_option(mesh_timeouts(liveness));
  ws.set_option(websocket::stream_base::decorator(
      [instance_id](websocket::response_type& res) { res.set("X-Instance-Id", instance_id); }));
  auto [ec] = co_await ws.async_accept(req, use_nothrow);
  if (ec) co_return nullptr;
  ws.binary(true);
  co_return std::unique_ptr<WsTransport>(std::move(t));
}

std::unique_ptr<asio::ssl::context> make_client_tls(bool insecure) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  if (insecure) {
    ctx->set_verify_mode(asio::ssl::verify_none);
  } else {
    ctx->set_default_verify_paths();
    ctx->set_verify_mode(asio::ssl::verify_peer);
  }
  return ctx;
}

}  // namespace tether::mesh
