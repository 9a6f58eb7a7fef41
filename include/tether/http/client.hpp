#pragma once
// A blocking HTTP/1.1 client over one keep-alive connection, with a deadline
// per call. For the CLI (`tether status`), the plan supervisor's admin calls
// and tests; not for the data plane.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tether/http/server.hpp"

namespace tether::http {

class Client {
 public:
  Client(std::string host, std::uint16_t port,
         std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `req` (Host, Content-Length filled in when absent) and reads the
  // whole response. Connects first when not connected. Throws
  // boost::system::system_error on connect/read/write failure or timeout;
  // the connection is closed then and the next call reconnects.
  Response send(Request req);

  // Shorthands.
  Response get(const std::string& target);
  Response post(const std::string& target, std::string body = {},
                const std::string& content_type = "application/json");

  // Closes the connection (the next call reconnects).
  void close();

  // True while a connection is open.
  bool connected() const;

  // Local port of the open connection (0 when not connected).
  std::uint16_t local_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::http
