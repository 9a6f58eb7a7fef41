// Stateful reconnect without sockets (HubProtocol.md's Ack and Sequence,
// ASP.NET Core's MessageBuffer): which connections use it, what stays
// unacknowledged, the buffer's limit, a resume's Sequence and resends, and
// the client's resends de-duplicated.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "tether/realtime/connection.hpp"
#include "tether/realtime/hub.hpp"
#include "tether/realtime/hub_protocol.hpp"

namespace tether::realtime {
namespace {

namespace json = boost::json;

TEST(StatefulReconnectProtocol, AckAndSequenceMessages) {
  EXPECT_EQ(ack_message(7), "{\"type\":8,\"sequenceId\":7}\x1e");
  EXPECT_EQ(sequence_message(1), "{\"type\":9,\"sequenceId\":1}\x1e");
  EXPECT_EQ(ack_message(5, Protocol::messagepack), std::string("\x03\x92\x08\x05", 4));
  EXPECT_EQ(sequence_message(300, Protocol::messagepack),
            std::string("\x05\x92\x09\xcd\x01\x2c", 6));

  std::string error;
  auto m = parse_client_message("{\"type\":8,\"sequenceId\":12}", error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->sequence_id, 12);
  EXPECT_FALSE(parse_client_message("{\"type\":9}", error));
  EXPECT_EQ(error, "Missing required property 'sequenceId'.");
  EXPECT_FALSE(parse_client_message("{\"type\":8,\"sequenceId\":-1}", error));
  auto b = parse_client_message_msgpack(std::string("\x92\x09\xcd\x01\x2c", 5), error);
  ASSERT_TRUE(b) << error;
  EXPECT_EQ(b->type, 9);
  EXPECT_EQ(b->sequence_id, 300);

  EXPECT_TRUE(is_sequenced(int(MessageType::invocation)));
  EXPECT_TRUE(is_sequenced(int(MessageType::cancel_invocation)));
  EXPECT_FALSE(is_sequenced(int(MessageType::ping)));
  EXPECT_FALSE(is_sequenced(int(MessageType::ack)));
}

TEST(StatefulReconnectProtocol, HandshakeVersionTwoAndNegotiate) {
  auto v2 = check_handshake("{\"protocol\":\"json\",\"version\":2}");
  EXPECT_TRUE(v2.ok);
  EXPECT_EQ(v2.version, 2);
  auto v3 = check_handshake("{\"protocol\":\"messagepack\",\"version\":3}");
  EXPECT_FALSE(v3.ok);
  EXPECT_EQ(v3.error, "The server does not support version 3 of the 'messagepack' protocol.");
  auto offered = json::parse(negotiate_response(1, "i", "t", all_transports, true));
  EXPECT_EQ(offered.at("useStatefulReconnect"), true);
  auto plain = json::parse(negotiate_response(1, "i", "t", all_transports));
  EXPECT_FALSE(plain.as_object().contains("useStatefulReconnect"));
}

struct StatefulReconnect : ::testing::Test {
  boost::asio::io_context io;
  std::shared_ptr<Hub> hub;
  std::vector<std::string> echoed;

  void SetUp() override {
    HubOptions o;
    o.reconnect_buffer = 200;
    hub = Hub::create(nullptr, o);
    hub->on("Echo", [this](Hub::Caller& c, json::array& a) -> json::value {
      echoed.emplace_back(a.at(0).as_string());
      c.hub.send_connection(c.connection_id, "Echoed", a);
      return nullptr;
    });
  }

  std::shared_ptr<Connection> connect(bool offered = true, int version = 2,
                                      TransportKind t = TransportKind::websockets) {
    http::Request req;
    req.target("/hub");
    auto c = hub->create_connection(io.get_executor(), 1, req);
    c->reconnect_offered = offered;
    c->transport = t;
    hub->receive(c, "{\"protocol\":\"json\",\"version\":" + std::to_string(version) + "}\x1e");
    EXPECT_EQ(c->take_output(), "{}\x1e");
    return c;
  }

  static std::string echo(const std::string& text) {
    return "{\"type\":1,\"target\":\"Echo\",\"arguments\":[\"" + text + "\"]}\x1e";
  }
  static std::string echoed_frame(const std::string& text) {
    return "{\"type\":1,\"target\":\"Echoed\",\"arguments\":[\"" + text + "\"]}\x1e";
  }
};

TEST_F(StatefulReconnect, OnlyWhenNegotiatedAtVersionTwoOverWebSockets) {
  EXPECT_TRUE(connect()->stateful);
  EXPECT_FALSE(connect(false)->stateful);
  EXPECT_FALSE(connect(true, 1)->stateful);
  EXPECT_FALSE(connect(true, 2, TransportKind::long_polling)->stateful);
}

TEST_F(StatefulReconnect, WrittenMessagesWaitForTheClientsAck) {
  auto c = connect();
  hub->receive(c, echo("a") + echo("b"));
  EXPECT_EQ(c->take_output(), echoed_frame("a") + echoed_frame("b"));
  ASSERT_EQ(c->unacked.size(), 2u);
  EXPECT_EQ(c->first_unacked, 1);
  EXPECT_EQ(c->received, 2);  // the client's two invocations
  hub->receive(c, "{\"type\":8,\"sequenceId\":1}\x1e");
  ASSERT_EQ(c->unacked.size(), 1u);
  EXPECT_EQ(c->unacked.front().bytes(), echoed_frame("b"));
  EXPECT_EQ(c->first_unacked, 2);
  hub->receive(c, "{\"type\":8,\"sequenceId\":9}\x1e");
  EXPECT_TRUE(c->unacked.empty());
  EXPECT_EQ(c->unacked_bytes, 0u);
}

TEST_F(StatefulReconnect, AFullBufferHoldsSequencedMessagesBackUntilAnAck) {
  auto c = connect();
  std::string big(160, 'x');
  hub->receive(c, echo(big) + echo("next"));
  EXPECT_EQ(c->take_output(), echoed_frame(big));  // 200 bytes unacknowledged: the rest waits
  EXPECT_EQ(c->take_output(), "");
  EXPECT_EQ(c->output.size(), 1u);
  hub->receive(c, "{\"type\":8,\"sequenceId\":1}\x1e");
  EXPECT_EQ(c->take_output(), echoed_frame("next"));
}

TEST_F(StatefulReconnect, AResumeSendsASequenceThenWhatWasNotAcknowledged) {
  auto c = connect();
  hub->receive(c, echo("a") + echo("b"));
  c->take_output();
  hub->receive(c, "{\"type\":8,\"sequenceId\":1}\x1e");
  hub->detach(c);
  EXPECT_TRUE(c->detached);
  // Sent while no WebSocket is there: queued, written after the resends.
  hub->send_connection(c->id, "Echoed", json::array{"c"});
  EXPECT_EQ(hub->resume(c), "{\"type\":9,\"sequenceId\":2}\x1e" + echoed_frame("b"));
  EXPECT_FALSE(c->detached);
  EXPECT_EQ(c->take_output(), echoed_frame("c"));
  EXPECT_EQ(hub->stats().transports_lost, 1u);
  EXPECT_EQ(hub->stats().reconnects, 1u);
}

TEST_F(StatefulReconnect, TheClientsResendsAreProcessedOnce) {
  auto c = connect();
  hub->receive(c, echo("a") + echo("b"));  // the client's 1 and 2
  hub->detach(c);
  hub->resume(c);
  c->take_output();
  // Before its Sequence, nothing from the client counts.
  hub->receive(c, echo("early"));
  // It never saw an Ack: it resends everything from 1, then a new one.
  hub->receive(c, "{\"type\":9,\"sequenceId\":1}\x1e" + echo("a") + echo("b") + echo("c"));
  EXPECT_EQ(echoed, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c->received, 3);
}

TEST_F(StatefulReconnect, ASequenceBeyondWhatWasReceivedEndsTheConnection) {
  auto c = connect();
  hub->receive(c, echo("a"));
  c->take_output();
  hub->receive(c, "{\"type\":9,\"sequenceId\":5}\x1e");
  EXPECT_TRUE(c->closing);
  EXPECT_NE(c->take_output().find("Sequence ID greater than amount of messages we've received."),
            std::string::npos);
}

TEST_F(StatefulReconnect, ClosingADetachedConnectionForgetsIt) {
  auto c = connect();
  hub->detach(c);
  hub->abort(c->id, "bye");
  EXPECT_TRUE(c->gone);
  EXPECT_EQ(hub->local_connections(), 0u);
}

}  // namespace
}  // namespace tether::realtime
