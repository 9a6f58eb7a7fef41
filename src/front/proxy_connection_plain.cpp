// The proxy path for plain-HTTP clients (see proxy_connection_impl.hpp).
#include "proxy_connection_impl.hpp"

namespace tether::front {

asio::awaitable<void> run_proxy_connection(FrontServer::Worker* worker, tcp::socket socket,
                                           std::uint64_t connection_id) {
  ClientSide cs = client_side(socket, connection_id, false);
  beast::tcp_stream client(std::move(socket));
  co_await serve_client(*worker, client, std::move(cs));
}

}  // namespace tether::front
