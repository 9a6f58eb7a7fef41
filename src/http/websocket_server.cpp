// http::accept_websocket: the server side of the one WebSocket type, over a
// connection taken over from an HTTP server.
#include "websocket_impl.hpp"

namespace tether::http {

asio::awaitable<std::unique_ptr<WebSocket>> accept_websocket(boost::beast::tcp_stream& stream,
                                                             const Request& req,
                                                             WebSocketOptions options) {
  using Server = detail::BeastWebSocket<detail::websocket::stream<boost::beast::tcp_stream&>>;
  auto socket = std::make_unique<Server>(stream);
  auto& ws = socket->ws();
  if (options.read_limit) ws.read_message_max(options.read_limit);
  ws.set_option(detail::timeouts_for(options, boost::beast::role_type::server));
  if (!options.instance_id.empty())
    ws.set_option(detail::websocket::stream_base::decorator(
        [id = options.instance_id](detail::websocket::response_type& res) {
          res.set("X-Instance-Id", id);
        }));
  auto [ec] = co_await ws.async_accept(req, detail::ws_nothrow);
  if (ec) co_return nullptr;
  co_return std::unique_ptr<WebSocket>(std::move(socket));
}

}  // namespace tether::http
