// The proxy path for HTTPS clients: TLS is terminated here, instances are
// reached over plain HTTP (see proxy_connection_impl.hpp).
#include "proxy_connection_impl.hpp"

namespace tether::front {

asio::awaitable<void> run_proxy_connection_tls(FrontServer::Worker* worker, tcp::socket socket,
                                               std::uint64_t connection_id,
                                               asio::ssl::context* tls) {
  ClientSide cs = client_side(socket, connection_id, true);
  beast::ssl_stream<beast::tcp_stream> client(beast::tcp_stream(std::move(socket)), *tls);
  co_await serve_client(*worker, client, std::move(cs));
}

}  // namespace tether::front
