// http::dial_websocket: the client side of the one WebSocket type, ws:// and
// wss:// (the mesh's member links through the front door).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>

#include "websocket_impl.hpp"

namespace tether::http {

namespace {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using detail::ws_nothrow;

using PlainClient = detail::BeastWebSocket<websocket::stream<beast::tcp_stream>>;
using TlsClient = detail::BeastWebSocket<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>;

// Joins every Set-Cookie's "name=value" with "; ".
std::string cookies_of(const websocket::response_type& res) {
  std::string out;
  auto [first, last] = res.equal_range(bhttp::field::set_cookie);
  for (auto it = first; it != last; ++it) {
    auto v = it->value();
    auto pair = v.substr(0, v.find(';'));
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    if (pair.empty()) continue;
    if (!out.empty()) out += "; ";
    out.append(pair.data(), pair.size());
  }
  return out;
}

// Connects `t`'s TCP layer (within dial.timeout, which also bounds what
// follows until the handshake is done); false with r.error set on failure.
template <class T>
asio::awaitable<bool> connect(T& t, const tcp::resolver::results_type& endpoints,
                              const WebSocketDial& dial, const std::string& host_header,
                              WebSocketDialResult& r) {
  auto& tcp_layer = beast::get_lowest_layer(t.ws());
  tcp_layer.expires_after(dial.timeout);
  auto [ec, ep] = co_await tcp_layer.async_connect(endpoints, ws_nothrow);
  if (ec) {
    r.error = "connect " + host_header + ": " + ec.message();
    co_return false;
  }
  tcp_layer.socket().set_option(tcp::no_delay(true));
  co_return true;
}

template <class T>
asio::awaitable<WebSocketDialResult> handshake(std::unique_ptr<T> t, std::string host_header,
                                               std::string target, const WebSocketDial& dial) {
  WebSocketDialResult r;
  auto& ws = t->ws();
  ws.set_option(websocket::stream_base::decorator(
      [cookie = dial.cookie, agent = dial.user_agent](websocket::request_type& req) {
        if (!agent.empty()) req.set(bhttp::field::user_agent, agent);
        if (!cookie.empty()) req.set(bhttp::field::cookie, cookie);
      }));
  websocket::response_type res;
  auto [ec] = co_await ws.async_handshake(res, host_header, target, ws_nothrow);
  if (ec) {
    r.error = "WebSocket handshake: " + ec.message();
    r.status = res.result_int();
    if (r.status != 0) r.error += " (HTTP " + std::to_string(r.status) + ")";
    co_return r;
  }
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(detail::timeouts_for(dial.options, beast::role_type::client));
  if (dial.options.read_limit) ws.read_message_max(dial.options.read_limit);
  r.set_cookie = cookies_of(res);
  r.instance_id = std::string(res["X-Instance-Id"]);
  r.socket = std::move(t);
  co_return r;
}

}  // namespace

asio::awaitable<WebSocketDialResult> dial_websocket(asio::any_io_executor executor,
                                                    WebSocketDial dial) {
  WebSocketDialResult r;
  auto parsed = boost::urls::parse_uri(dial.url);
  if (!parsed) {
    r.error = "bad URL \"" + dial.url + "\"";
    co_return r;
  }
  std::string scheme = parsed->scheme();
  bool secure = scheme == "https" || scheme == "wss";
  std::string host = parsed->host();
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string port = parsed->has_port() ? std::string(parsed->port()) : (secure ? "443" : "80");
  std::string target =
      parsed->encoded_target().empty() ? std::string("/") : std::string(parsed->encoded_target());
  std::string host_header(parsed->encoded_authority());
  if (auto at = host_header.rfind('@'); at != std::string::npos) host_header.erase(0, at + 1);

  tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, ws_nothrow);
  if (rec) {
    r.error = "resolve " + host + ": " + rec.message();
    co_return r;
  }
  if (!secure) {
    auto t = std::make_unique<PlainClient>(executor);
    if (!co_await connect(*t, endpoints, dial, host_header, r)) co_return r;
    co_return co_await handshake(std::move(t), host_header, target, dial);
  }
  if (!dial.tls) {
    r.error = "wss:// needs a TLS context";
    co_return r;
  }
  auto t = std::make_unique<TlsClient>(executor, *dial.tls);
  if (!co_await connect(*t, endpoints, dial, host_header, r)) co_return r;
  auto& ssl = t->ws().next_layer();
  SSL_set_tlsext_host_name(ssl.native_handle(), host.c_str());
  ssl.set_verify_callback(asio::ssl::host_name_verification(host));
  auto [hec] = co_await ssl.async_handshake(asio::ssl::stream_base::client, ws_nothrow);
  if (hec) {
    r.error = "TLS handshake with " + host_header + ": " + hec.message();
    co_return r;
  }
  co_return co_await handshake(std::move(t), host_header, target, dial);
}

}  // namespace tether::http
