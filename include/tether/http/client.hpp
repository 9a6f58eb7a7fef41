#pragma once
// A blocking HTTP/1.1 client over one keep-alive connection, with a deadline
// per call. For the CLI (`tether status`), the plan supervisor's admin calls,
// the Azure Table hub store (over TLS) and tests; not for the data plane.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tether/http/server.hpp"

namespace tether::http {

// Transport security of a Client.
enum class ClientTls {
  off,     // plain TCP
  verify,  // TLS with SNI; the server's chain is checked against the system
           // trust store (OpenSSL's default paths: SSL_CERT_FILE/SSL_CERT_DIR
           // when set) and its name against `host`
};

class Client {
 public:
  Client(std::string host, std::uint16_t port,
         std::chrono::milliseconds timeout = std::chrono::seconds(30),
         ClientTls tls = ClientTls::off);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `req` (Host, Content-Length filled in when absent) and reads the
  // whole response. Connects (and, with TLS, handshakes) first when not
  // connected. Throws boost::system::system_error on connect/handshake/
  // read/write failure or timeout (a certificate that fails verification is
  // a handshake failure); the connection is closed then and the next call
  // reconnects.
  Response send(Request req);

  // Shorthands.
  Response get(const std::string& target);
  Response post(const std::string& target, std::string body = {},
                const std::string& content_type = "application/json");

  // Closes the connection (the next call reconnects).
  void close();

  // True while a connection is open.
  bool connected() const;

  // True when the last send() went over a connection that an earlier send()
  // had already used: a failure then may be a server's idle close, and the
  // caller may retry on a new connection when the request is safe to repeat.
  bool last_send_reused() const;

  // Local port of the open connection (0 when not connected).
  std::uint16_t local_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::http
