// The MessagePack hub protocol (HubProtocol.md): VarInt framing, every
// server message's bytes, client messages parsed, and hostile input refused
// (truncated VarInts and values, wrong array lengths, wrong types, lengths
// larger than the record). The expected bytes are written out by hand from
// the spec, not produced by the encoder under test.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <map>

#include "realtime/fake_backplane.hpp"
#include "realtime/handshaken.hpp"
#include "tether/realtime/connection.hpp"
#include "tether/realtime/hub.hpp"
#include "tether/realtime/hub_protocol.hpp"

namespace tether::realtime {
namespace {

namespace json = boost::json;

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (int c : b) out += static_cast<char>(c);
  return out;
}

std::string str(std::string_view s) {  // fixstr
  return static_cast<char>(0xa0 | s.size()) + std::string(s);
}

TEST(HubProtocolMsgpack, VarIntLengthPrefixes) {
  EXPECT_EQ(binary_frame(""), bytes({0x00}));
  EXPECT_EQ(binary_frame(std::string(127, 'x')).substr(0, 1), bytes({0x7f}));
  EXPECT_EQ(binary_frame(std::string(128, 'x')).substr(0, 2), bytes({0x80, 0x01}));
  EXPECT_EQ(binary_frame(std::string(16384, 'x')).substr(0, 3), bytes({0x80, 0x80, 0x01}));

  std::string buffer =
      binary_frame("ab") + binary_frame(std::string(300, 'c')) + bytes({0x05}) + "xy";
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(take_binary_records(buffer, out, 1000, error));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "ab");
  EXPECT_EQ(out[1], std::string(300, 'c'));
  EXPECT_EQ(buffer, bytes({0x05}) + "xy");  // 5 announced, 2 here: wait for the rest
  buffer += "zzz";
  ASSERT_TRUE(take_binary_records(buffer, out, 1000, error));
  EXPECT_EQ(out.back(), "xyzzz");
  EXPECT_TRUE(buffer.empty());

  // A prefix cut in the middle waits too.
  buffer = bytes({0x80});
  out.clear();
  ASSERT_TRUE(take_binary_records(buffer, out, 1000, error));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(buffer.size(), 1u);
}

TEST(HubProtocolMsgpack, HostileLengthPrefixesEndTheConnection) {
  std::vector<std::string> out;
  std::string error;
  // A 5th byte above 7 would mean 2 GiB or more.
  std::string buffer = bytes({0xff, 0xff, 0xff, 0xff, 0x08});
  EXPECT_FALSE(take_binary_records(buffer, out, 1 << 20, error));
  EXPECT_EQ(error, "Messages over 2GB in size are not supported.");
  // Larger than the hub's limit: refused before any of it arrives.
  buffer = bytes({0x80, 0x80, 0x04});  // 65536
  EXPECT_FALSE(take_binary_records(buffer, out, 32 * 1024, error));
  EXPECT_NE(error.find("32768B was exceeded"), std::string::npos) << error;
  EXPECT_TRUE(out.empty());
}

TEST(HubProtocolMsgpack, ClientStreamItemsAndCompletions) {
  std::string error;
  // [2, {}, "1", 7]: an item of upload stream "1"
  auto m =
      parse_client_message_msgpack(bytes({0x94, 0x02, 0x80}) + str("1") + bytes({0x07}), error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->type, 2);
  EXPECT_EQ(m->invocation_id, "1");
  EXPECT_EQ(m->result, json::value(7));
  // [3, {}, "c1", 3, "yes"]  [3, {}, "c1", 1, "no"]  [3, {}, "1", 2]
  m = parse_client_message_msgpack(
      bytes({0x95, 0x03, 0x80}) + str("c1") + bytes({0x03}) + str("yes"), error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->result, json::value("yes"));
  EXPECT_FALSE(m->error);
  m = parse_client_message_msgpack(
      bytes({0x95, 0x03, 0x80}) + str("c1") + bytes({0x01}) + str("no"), error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->error, "no");
  m = parse_client_message_msgpack(bytes({0x94, 0x03, 0x80}) + str("1") + bytes({0x02}), error);
  ASSERT_TRUE(m) << error;
  EXPECT_FALSE(m->error);
  EXPECT_TRUE(m->result.is_null());
}

TEST(HubProtocolMsgpack, ServerMessagesAsTheSpecLaysThemOut) {
  // [1, {}, nil, "Recv", ["a", 1]]
  EXPECT_EQ(invocation("Recv", json::array{"a", 1}, Protocol::messagepack),
            binary_frame(bytes({0x95, 0x01, 0x80, 0xc0}) + str("Recv") + bytes({0x92}) + str("a") +
                         bytes({0x01})));
  // [3, {}, "3", 3, 42]  [3, {}, "3", 2]  [3, {}, "3", 1, "bad"]
  EXPECT_EQ(completion_result("3", 42, Protocol::messagepack),
            binary_frame(bytes({0x95, 0x03, 0x80}) + str("3") + bytes({0x03, 0x2a})));
  EXPECT_EQ(completion_void("3", Protocol::messagepack),
            binary_frame(bytes({0x94, 0x03, 0x80}) + str("3") + bytes({0x02})));
  EXPECT_EQ(completion_error("3", "bad", Protocol::messagepack),
            binary_frame(bytes({0x95, 0x03, 0x80}) + str("3") + bytes({0x01}) + str("bad")));
  // [2, {}, "4", {"k": [true, null, -1, 1.5]}]
  EXPECT_EQ(stream_item("4", json::parse(R"({"k":[true,null,-1,1.5]})"), Protocol::messagepack),
            binary_frame(bytes({0x94, 0x02, 0x80}) + str("4") + bytes({0x81}) + str("k") +
                         bytes({0x94, 0xc3, 0xc0, 0xff, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0})));
  // A double stays a float64 when it is integral (2.0; msgpack-cxx's
  // pack_double would write the integer 2). Found by fuzz_signalr_msgpack.
  EXPECT_EQ(stream_item("4", 2.0, Protocol::messagepack),
            binary_frame(bytes({0x94, 0x02, 0x80}) + str("4") +
                         bytes({0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0})));
  // A client result asked for: [1, {}, "c1", "Ask", []]
  EXPECT_EQ(invocation("Ask", json::array{}, "c1", Protocol::messagepack),
            binary_frame(bytes({0x95, 0x01, 0x80}) + str("c1") + str("Ask") + bytes({0x90})));
  EXPECT_EQ(ping(Protocol::messagepack), binary_frame(bytes({0x91, 0x06})));
  // [7, nil, false]  [7, "x", true]
  EXPECT_EQ(close_message("", false, Protocol::messagepack),
            binary_frame(bytes({0x93, 0x07, 0xc0, 0xc2})));
  EXPECT_EQ(close_message("x", true, Protocol::messagepack),
            binary_frame(bytes({0x93, 0x07}) + str("x") + bytes({0xc3})));
}

TEST(HubProtocolMsgpack, ClientMessagesParsed) {
  std::string error;
  // [1, {}, "7", "Send", ["hi", 300, bin "\x00\x01", {"a": nil}]]
  auto record = bytes({0x95, 0x01, 0x80}) + str("7") + str("Send") + bytes({0x94}) + str("hi") +
                bytes({0xcd, 0x01, 0x2c, 0xc4, 0x02, 0x00, 0x01, 0x81}) + str("a") + bytes({0xc0});
  auto m = parse_client_message_msgpack(record, error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->type, 1);
  EXPECT_EQ(m->invocation_id, "7");
  EXPECT_EQ(m->target, "Send");
  EXPECT_EQ(json::serialize(m->arguments), R"(["hi",300,"AAE=",{"a":null}])");
  EXPECT_TRUE(m->stream_ids.empty());

  // A non-blocking invocation (nil id) with headers and stream ids.
  record = bytes({0x96, 0x01, 0x81}) + str("h") + str("v") + bytes({0xc0}) + str("Up") +
           bytes({0x90, 0x91}) + str("s1");
  m = parse_client_message_msgpack(record, error);
  ASSERT_TRUE(m) << error;
  EXPECT_TRUE(m->invocation_id.empty());
  EXPECT_EQ(m->stream_ids, std::vector<std::string>{"s1"});

  // A Date from the JS client: the timestamp extension (fixext 4, -1).
  record = bytes({0x95, 0x01, 0x80, 0xc0}) + str("T") +
           bytes({0x91, 0xd6, 0xff, 0x65, 0x92, 0x00, 0x80});  // 1704067200
  m = parse_client_message_msgpack(record, error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(json::serialize(m->arguments), R"(["2024-01-01T00:00:00.000Z"])");

  EXPECT_TRUE(parse_client_message_msgpack(bytes({0x91, 0x06}), error));              // ping
  EXPECT_TRUE(parse_client_message_msgpack(bytes({0x93, 0x07, 0xc0, 0xc2}), error));  // close
  m = parse_client_message_msgpack(bytes({0x93, 0x05, 0x80}) + str("9"), error);      // cancel
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->invocation_id, "9");
  // A type a newer protocol may add is read, and ignored by the hub.
  EXPECT_TRUE(parse_client_message_msgpack(bytes({0x92, 0x63, 0x01}), error));
}

TEST(HubProtocolMsgpack, HostileMessagesRefusedWithAReason) {
  struct Case {
    std::string record, why;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {bytes({0x95, 0x01, 0x80}), "truncated inside the array"},
      {bytes({0x95, 0x01, 0x80, 0xc0, 0xa4, 'S'}), "truncated inside a string"},
      {bytes({0x93, 0x01, 0x80, 0xc0}), "an invocation of 3 elements"},
      {bytes({0x90}), "an empty array"},
      {bytes({0x81, 0xa1, 't', 0x01}), "a map, not an array"},
      {bytes({0x91, 0xff}), "a negative type"},
      {bytes({0x91, 0xa1, '1'}), "a type that is a string"},
      {bytes({0x95, 0x01, 0x80, 0xc0, 0x07, 0x90}), "a target that is a number"},
      {bytes({0x95, 0x01, 0x80, 0x01, 0xa1, 'x', 0x90}), "an invocation id that is a number"},
      {bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x80}), "arguments that are a map"},
      {bytes({0x95, 0x01, 0x90, 0xc0, 0xa1, 'x', 0x90}), "headers that are an array"},
      {bytes({0x95, 0x04, 0x80, 0xc0, 0xa1, 'x', 0x90}), "a stream invocation without an id"},
      {bytes({0x96, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x90, 0x91, 0x01}),
       "a stream id that is a number"},
      {bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x91, 0x81, 0x01, 0xc0}),
       "a map key that is a number"},
      {bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x91, 0xd4, 0x05, 0x00}), "an unknown extension"},
      {bytes({0x91, 0x06, 0x00}), "bytes after the value"},
      {bytes({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}), "an array of 2^32 - 1 elements in 6 bytes"},
      {bytes({0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'}), "a string of 2 GiB in 6 bytes"},
      {bytes({0xc6, 0xff, 0xff, 0xff, 0xff}), "a binary of 4 GiB in 5 bytes"},
      {bytes({0x94, 0x03, 0x80, 0xa1, '1', 0x07}), "a completion of kind 7"},
      {bytes({0x94, 0x03, 0x80, 0xa1, '1', 0x03}), "a completion with a result but none there"},
      {bytes({0x92, 0x08, 0xa1, 'x'}), "an ack whose sequence id is a string"},
      {bytes({0xc1}), "the never-used byte 0xc1"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_client_message_msgpack(c.record, error)) << c.why;
    EXPECT_FALSE(error.empty()) << c.why;
  }
  // Nesting deeper than the JSON protocol's limit.
  std::string deep =
      bytes({0x95, 0x01, 0x80, 0xc0}) + str("x") + std::string(200, '\x91') + bytes({0xc0});
  std::string error;
  EXPECT_FALSE(parse_client_message_msgpack(deep, error));
}

using testing::handshaken;

struct HubMsgpack : ::testing::Test {
  boost::asio::io_context io;
  std::shared_ptr<Hub> hub = Hub::create(nullptr, {});

  std::shared_ptr<Connection> connect(std::string_view protocol) {
    return handshaken(*hub, io, protocol);
  }
};

TEST_F(HubMsgpack, InvocationsAndSendsInEachConnectionsProtocol) {
  hub->on("Echo", [](Hub::Caller&, json::array& a) -> json::value { return a.at(0); });
  hub->on("All", [](Hub::Caller& c, json::array& a) -> json::value {
    c.hub.send_all("Got", a);
    return nullptr;
  });
  auto mp = connect("messagepack");
  auto js = connect("json");
  EXPECT_EQ(mp->protocol, Protocol::messagepack);
  EXPECT_TRUE(mp->binary());

  hub->receive(
      mp, binary_frame(bytes({0x95, 0x01, 0x80}) + str("1") + str("Echo") + bytes({0x91, 0x2a})));
  EXPECT_EQ(mp->take_output(), completion_result("1", 42, Protocol::messagepack));

  // One send_all: each connection gets it framed in its own protocol.
  hub->receive(
      mp, binary_frame(bytes({0x95, 0x01, 0x80, 0xc0}) + str("All") + bytes({0x91}) + str("x")));
  EXPECT_EQ(mp->take_output(), invocation("Got", json::array{"x"}, Protocol::messagepack));
  EXPECT_EQ(js->take_output(), "{\"type\":1,\"target\":\"Got\",\"arguments\":[\"x\"]}\x1e");

  // A malformed MessagePack message closes with the reason, in MessagePack.
  hub->receive(mp, binary_frame(bytes({0x93, 0x01, 0x80, 0xc0})));
  EXPECT_TRUE(mp->closing);
  auto out = mp->take_output();
  std::vector<std::string> records;
  std::string error;
  ASSERT_TRUE(take_binary_records(out, records, 1 << 20, error));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].substr(0, 2), bytes({0x93, 0x07}));  // [7, error, allowReconnect]
  EXPECT_NE(records[0].find("InvalidDataException"), std::string::npos);
}

TEST_F(HubMsgpack, MessagesInTheSameBytesAsTheHandshakeAreRead) {
  hub->on("Echo", [](Hub::Caller&, json::array& a) -> json::value { return a.at(0); });
  http::Request req;
  req.target("/hub");
  auto c = hub->create_connection(io.get_executor(), 1, req);
  c->transport = TransportKind::long_polling;
  hub->receive(c, std::string("{\"protocol\":\"messagepack\",\"version\":1}\x1e") +
                      binary_frame(bytes({0x95, 0x01, 0x80}) + str("1") + str("Echo") +
                                   bytes({0x91, 0x07})));
  EXPECT_EQ(c->take_output(), "{}\x1e" + completion_result("1", 7, Protocol::messagepack));
}

TEST_F(HubMsgpack, AnOversizedLengthPrefixClosesTheConnection) {
  auto c = connect("messagepack");
  hub->receive(c, bytes({0xff, 0xff, 0xff, 0xff, 0x07}));
  EXPECT_TRUE(c->closing);
  EXPECT_NE(c->take_output().find("maximum message size"), std::string::npos);
}

TEST_F(HubMsgpack, AMessageOfTheLargestSizeArrivingInPiecesIsRead) {
  // Its length prefix and all but its last byte are more than the limit
  // together: only the message itself counts.
  HubOptions o;
  o.max_message_bytes = 200;
  hub = Hub::create(nullptr, o);
  hub->on("Echo",
          [](Hub::Caller&, json::array& a) -> json::value { return a.at(0).as_string().size(); });
  auto c = connect("messagepack");
  // [1, {}, "1", "Echo", [str8 of n bytes]]: 200 bytes in all.
  const std::string head = bytes({0x95, 0x01, 0x80}) + str("1") + str("Echo") + bytes({0x91, 0xd9});
  const std::size_t n = 200 - head.size() - 1;
  std::string message = head + std::string(1, static_cast<char>(n)) + std::string(n, 'x');
  ASSERT_EQ(message.size(), 200u);
  auto framed = binary_frame(message);
  hub->receive(c, framed.substr(0, framed.size() - 1));
  EXPECT_FALSE(c->closing);
  hub->receive(c, framed.substr(framed.size() - 1));
  EXPECT_EQ(c->take_output(), completion_result("1", n, Protocol::messagepack));
}

}  // namespace
}  // namespace tether::realtime

namespace tether::realtime {
namespace {

TEST(HubMsgpackScaleOut, OnePayloadForEveryProtocolAndTheOlderFormatStillDelivered) {
  boost::asio::io_context io;
  testing::FakeBackplane backplane(io.get_executor());
  auto hub = Hub::create(&backplane, {});
  auto connect = [&](std::string_view protocol) { return handshaken(*hub, io, protocol); };
  auto mp = connect("messagepack");
  auto js = connect("json");

  // A send is published once, protocol-neutral: target and arguments.
  ASSERT_TRUE(hub->send_all("Got", json::array{"x", 1}, {js->id}));
  ASSERT_EQ(backplane.published.size(), 1u);
  auto [topic, payload] = backplane.published[0];
  EXPECT_EQ(topic, "signalr/hub/all");
  EXPECT_EQ(json::parse(payload),
            json::parse(R"({"t":"Got","a":["x",1],"x":[")" + js->id + "\"]}"));
  EXPECT_TRUE(mp->output.empty());  // nothing delivered until the backplane brings it back

  // Back from the backplane (or from another instance): each receiver in
  // its own protocol, the excepted one skipped.
  backplane.deliver(topic, payload);
  EXPECT_EQ(mp->take_output(), invocation("Got", json::array{"x", 1}, Protocol::messagepack));
  EXPECT_TRUE(js->output.empty());
  backplane.deliver(topic, R"({"t":"Got","a":[true],"x":[]})");
  EXPECT_EQ(mp->take_output(), invocation("Got", json::array{true}, Protocol::messagepack));
  EXPECT_EQ(js->take_output(), "{\"type\":1,\"target\":\"Got\",\"arguments\":[true]}\x1e");

  // An older instance's payload, a framed JSON invocation: passed on to the
  // JSON client as it came, re-framed for the MessagePack one.
  const std::string framed = "{\"type\":1,\"target\":\"Old\",\"arguments\":[\"y\"]}\x1e";
  backplane.deliver(topic, json::serialize(json::object{{"m", framed}, {"x", json::array{}}}));
  EXPECT_EQ(js->take_output(), framed);
  EXPECT_EQ(mp->take_output(), invocation("Old", json::array{"y"}, Protocol::messagepack));
}

}  // namespace
}  // namespace tether::realtime
