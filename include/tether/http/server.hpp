#pragma once
// A small HTTP/1.1 server with whole-message (string) bodies, for instance
// apps and admin endpoints. The front door has its own streaming path
// (front/proxy_connection_impl.hpp); this one is for handlers that want the whole
// request. Keep-alive, header/body limits and timeouts are built in; malformed
// input is answered 400/408/413/431 and the connection closed, never a crash.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace tether::http {

namespace asio = boost::asio;
using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

struct ConnectionInfo {
  std::uint64_t id = 0;                 // process-unique connection number
  asio::ip::tcp::endpoint remote;       // peer address
  asio::ip::tcp::endpoint local;        // our address
  std::uint64_t requests = 0;           // requests read on this connection so far (1-based)
};

// Set by a handler to take the connection over once it returns (a WebSocket
// upgrade): the server then awaits it with the stream and the request instead
// of writing `response`, and closes the connection afterwards.
using TakeOver = std::function<asio::awaitable<void>(boost::beast::tcp_stream&, Request)>;

// One request/response pair handed to a handler. The handler fills `response`
// (status, headers, body); the server sets Content-Length, keep-alive and the
// HTTP version.
struct Exchange {
  Request& request;
  Response& response;
  const ConnectionInfo& connection;
  TakeOver take_over = {};
};

using Handler = std::function<asio::awaitable<void>(Exchange&)>;

struct ServerOptions {
  std::size_t max_header_bytes = 32 * 1024;          // larger header block -> 431
  std::uint64_t max_body_bytes = 64ull * 1024 * 1024;  // larger body -> 413
  std::chrono::milliseconds header_timeout{10'000};  // request header not complete -> 408
  std::chrono::milliseconds idle_timeout{75'000};    // keep-alive idle -> close quietly
  std::chrono::milliseconds body_timeout{300'000};   // body read / response write budget
  std::string name = "server";                        // logger component name
};

class Server {
 public:
  Server(asio::any_io_executor executor, Handler handler, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds `address:port` (port 0: the OS picks) and starts accepting.
  // Returns the bound port. Throws boost::system::system_error when the bind
  // fails. Call once.
  std::uint16_t listen(const std::string& address, std::uint16_t port);

  // Stops accepting and closes every open connection. Safe to call twice;
  // may be called from any thread.
  void stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace tether::http
