#include "tether/mesh/transport.hpp"

#include <boost/asio/ssl/context.hpp>

#include "tether/mesh/handshake.hpp"

namespace tether::mesh {

asio::awaitable<DialResult> dial(asio::any_io_executor executor, std::string public_url,
                                 std::string cookie, asio::ssl::context* tls,
                                 std::chrono::milliseconds liveness,
                                 std::chrono::milliseconds timeout) {
  // <public_url>/.tether/mesh: the public URL's path (if any), then ours
  // (dial_websocket parses it and says so when it is not a URL).
  std::string url = public_url;
  if (auto q = url.find_first_of("?#"); q != std::string::npos) url.erase(q);
  while (!url.empty() && url.back() == '/') url.pop_back();
  http::WebSocketDial d;
  d.url = url + "/.tether/mesh";
  d.cookie = std::move(cookie);
  d.user_agent = "tether-mesh/1";
  d.tls = tls;
  d.timeout = timeout;
  d.options.idle = liveness;
  co_return co_await http::dial_websocket(executor, std::move(d));
}

asio::awaitable<std::unique_ptr<WsTransport>> accept(boost::beast::tcp_stream& stream,
                                                     http::Request req,
                                                     std::chrono::milliseconds liveness,
                                                     std::string instance_id) {
  http::WebSocketOptions options;
  options.idle = liveness;
  options.read_limit = kHelloReadLimit;
  options.instance_id = std::move(instance_id);
  co_return co_await http::accept_websocket(stream, req, std::move(options));
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
