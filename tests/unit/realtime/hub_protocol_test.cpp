// The SignalR JSON hub protocol and negotiate bodies, byte for byte as the
// official client reads them.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tether/realtime/hub_protocol.hpp"

namespace tether::realtime {
namespace {

TEST(HubProtocol, TakeRecordsLeavesTheIncompleteTail) {
  std::string buf = "{\"a\":1}\x1e{\"b\":2}\x1e{\"c\"";
  auto r = take_records(buf);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], "{\"a\":1}");
  EXPECT_EQ(r[1], "{\"b\":2}");
  EXPECT_EQ(buf, "{\"c\"");
  buf += ":3}\x1e";
  r = take_records(buf);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], "{\"c\":3}");
  EXPECT_TRUE(buf.empty());
}

TEST(HubProtocol, Handshake) {
  EXPECT_TRUE(check_handshake(R"({"protocol":"json","version":1})").ok);
  auto mp = check_handshake(R"({"protocol":"messagepack","version":1})");
  EXPECT_TRUE(mp.ok);
  EXPECT_EQ(mp.protocol, Protocol::messagepack);
  auto sse = check_handshake(R"({"protocol":"messagepack","version":1})", /*text_only=*/true);
  EXPECT_FALSE(sse.ok);
  EXPECT_EQ(sse.error,
            "Cannot use the 'messagepack' protocol on the current transport. The transport does "
            "not support 'Binary' transfer format.");
  auto xml = check_handshake(R"({"protocol":"xml","version":1})");
  EXPECT_FALSE(xml.ok);
  EXPECT_EQ(xml.error, "The protocol 'xml' is not supported.");
  EXPECT_TRUE(check_handshake(R"({"protocol":"json","version":2})").ok);  // stateful reconnect
  EXPECT_FALSE(check_handshake(R"({"protocol":"json","version":3})").ok);
  EXPECT_FALSE(check_handshake(R"({"protocol":"messagepack","version":3})").ok);
  EXPECT_FALSE(check_handshake(R"({"version":1})").ok);
  EXPECT_FALSE(check_handshake("not json").ok);
  EXPECT_EQ(handshake_ok(), "{}\x1e");
  EXPECT_EQ(handshake_error("no"), "{\"error\":\"no\"}\x1e");
}

TEST(HubProtocol, ParsesInvocations) {
  std::string error;
  auto m = parse_client_message(
      R"({"type":1,"invocationId":"7","target":"Send","arguments":["a",2]})", error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->type, 1);
  EXPECT_EQ(m->invocation_id, "7");
  EXPECT_EQ(m->target, "Send");
  ASSERT_EQ(m->arguments.size(), 2u);
  EXPECT_TRUE(m->stream_ids.empty());

  m = parse_client_message(R"({"type":1,"target":"Send","arguments":[]})", error);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->invocation_id.empty());

  m = parse_client_message(R"({"type":1,"target":"U","arguments":[],"streamIds":["1"]})", error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->stream_ids, std::vector<std::string>{"1"});

  // What a client sends on its upload streams, and a client result.
  m = parse_client_message(R"({"type":2,"invocationId":"1","item":{"n":3}})", error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(json::serialize(m->result), R"({"n":3})");
  m = parse_client_message(R"({"type":3,"invocationId":"1","result":42})", error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->result, json::value(42));
  EXPECT_FALSE(m->error);
  m = parse_client_message(R"({"type":3,"invocationId":"1","error":"no"})", error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->error, "no");
  EXPECT_FALSE(parse_client_message(R"({"type":3,"invocationId":"1","error":5})", error));
  EXPECT_EQ(error, "Expected 'error' to be of type String.");

  EXPECT_TRUE(parse_client_message(R"({"type":6})", error));
  EXPECT_FALSE(parse_client_message(R"({"type":1,"arguments":[]})", error));
  EXPECT_EQ(error, "Missing required property 'target'.");
  EXPECT_FALSE(parse_client_message(R"({"type":1,"target":"x"})", error));
  EXPECT_FALSE(parse_client_message(R"({"target":"x"})", error));
  // 2^32 + 1 truncated to int would be 1, an invocation.
  EXPECT_FALSE(parse_client_message(R"({"type":4294967297,"target":"x","arguments":[]})", error));
  EXPECT_EQ(error, "Missing required property 'type'.");
  EXPECT_FALSE(parse_client_message("[1]", error));
  EXPECT_FALSE(parse_client_message(R"({"type":1,"invocationId":5,"target":"x","arguments":[]})", error));
}

TEST(HubProtocol, ServerMessages) {
  EXPECT_EQ(invocation("Recv", boost::json::array{"a", 1}),
            "{\"type\":1,\"target\":\"Recv\",\"arguments\":[\"a\",1]}\x1e");
  EXPECT_EQ(completion_result("3", 42), "{\"type\":3,\"invocationId\":\"3\",\"result\":42}\x1e");
  EXPECT_EQ(completion_void("3"), "{\"type\":3,\"invocationId\":\"3\"}\x1e");
  EXPECT_EQ(completion_error("3", "bad"), "{\"type\":3,\"invocationId\":\"3\",\"error\":\"bad\"}\x1e");
  EXPECT_EQ(stream_item("4", 1), "{\"type\":2,\"invocationId\":\"4\",\"item\":1}\x1e");
  EXPECT_EQ(ping(), "{\"type\":6}\x1e");
  EXPECT_EQ(close_message(""), "{\"type\":7}\x1e");
  EXPECT_EQ(close_message("x", true), "{\"type\":7,\"error\":\"x\",\"allowReconnect\":true}\x1e");
}

TEST(HubProtocol, NegotiateVersions) {
  auto v1 = boost::json::parse(negotiate_response(1, "id", "tok", all_transports)).as_object();
  EXPECT_EQ(v1.at("negotiateVersion").as_int64(), 1);
  EXPECT_EQ(v1.at("connectionId").as_string(), "id");
  EXPECT_EQ(v1.at("connectionToken").as_string(), "tok");
  auto& t = v1.at("availableTransports").as_array();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].at("transport").as_string(), "WebSockets");
  EXPECT_EQ(t[1].at("transport").as_string(), "ServerSentEvents");
  EXPECT_EQ(t[2].at("transport").as_string(), "LongPolling");

  auto v0 = boost::json::parse(negotiate_response(0, "id", "tok", websockets)).as_object();
  EXPECT_EQ(v0.at("negotiateVersion").as_int64(), 0);
  EXPECT_FALSE(v0.contains("connectionToken"));
  EXPECT_EQ(v0.at("availableTransports").as_array().size(), 1u);
}

}  // namespace
}  // namespace tether::realtime
