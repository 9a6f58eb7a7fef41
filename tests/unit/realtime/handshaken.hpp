#pragma once
// A connection to a hub over WebSockets whose handshake in `protocol`
// ("json" or "messagepack") was answered: the start of most hub tests.
#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "tether/realtime/connection.hpp"
#include "tether/realtime/hub.hpp"

namespace tether::realtime::testing {

inline std::shared_ptr<Connection> handshaken(Hub& hub, boost::asio::io_context& io,
                                              std::string_view protocol = "json") {
  http::Request req;
  req.target("/hub");
  auto c = hub.create_connection(io.get_executor(), 1, req);
  c->transport = TransportKind::websockets;
  hub.receive(c, "{\"protocol\":\"" + std::string(protocol) + "\",\"version\":1}\x1e");
  EXPECT_EQ(c->take_output(), "{}\x1e");
  return c;
}

}  // namespace tether::realtime::testing
