// Calls that outlive their invocation message, without sockets: client-to-
// server streams, server streams produced over time and cancelled, client
// results on this instance and on another one (two hubs, two fake
// backplanes, the test carrying what one publishes to the other).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "realtime/fake_backplane.hpp"
#include "realtime/handshaken.hpp"
#include "tether/realtime/connection.hpp"
#include "tether/realtime/hub.hpp"

namespace tether::realtime {
namespace {

namespace json = boost::json;

using testing::handshaken;

struct HubCalls : ::testing::Test {
  // Before the io_context, whose pending keep-alive ticker holds the hub to
  // the end: the hub's end runs handlers that record here.
  std::vector<std::string> seen;  // what the handlers observed, in order
  boost::asio::io_context io;
  std::shared_ptr<Hub> hub;
  std::shared_ptr<Hub::Call> ticker;

  void SetUp() override {
    HubOptions o;
    o.max_queued = 4;
    o.max_calls = 3;
    hub = Hub::create(nullptr, o);
    // Sums an upload stream; answers at its end.
    hub->on_call("Sum", [this](std::shared_ptr<Hub::Call> call) {
      if (call->streams().size() != 1) throw HubError("Sum takes one stream");
      auto total = std::make_shared<std::int64_t>(0);
      call->streams()[0]->on_item([total](json::value& v) { *total += v.as_int64(); });
      call->streams()[0]->on_end([this, call, total](const std::optional<std::string>& error) {
        seen.push_back("end " + error.value_or("ok"));
        if (error)
          call->fail("stream failed: " + *error);
        else
          call->complete(*total);
      });
      call->on_cancel([this] { seen.push_back("sum cancelled"); });
    });
    // A stream produced by the test, item by item, through `ticker`.
    hub->on_stream_call("Ticks", [this](std::shared_ptr<Hub::Call> call) {
      ticker = call;
      call->on_cancel([this] { seen.push_back("ticks cancelled"); });
    });
    hub->on("Plain", [](Hub::Caller&, json::array&) -> json::value { return 1; });
  }
};

TEST_F(HubCalls, AnUploadStreamIsReadToItsEndThenTheCallCompletes) {
  auto c = handshaken(*hub, io);
  hub->receive(c,
               "{\"type\":1,\"invocationId\":\"9\",\"target\":\"sum\",\"arguments\":[],"
               "\"streamIds\":[\"1\"]}\x1e"
               "{\"type\":2,\"invocationId\":\"1\",\"item\":2}\x1e"
               "{\"type\":2,\"invocationId\":\"1\",\"item\":40}\x1e");
  EXPECT_TRUE(c->output.empty());  // the invocation waits for its stream
  hub->receive(c, "{\"type\":3,\"invocationId\":\"1\"}\x1e");
  EXPECT_EQ(c->take_output(), "{\"type\":3,\"invocationId\":\"9\",\"result\":42}\x1e");
  EXPECT_EQ(seen, std::vector<std::string>{"end ok"});
  EXPECT_TRUE(c->uploads.empty());
  EXPECT_TRUE(c->calls.empty());
  // Items for the finished stream are ignored, not an error.
  hub->receive(c, "{\"type\":2,\"invocationId\":\"1\",\"item\":1}\x1e");
  EXPECT_TRUE(c->output.empty());
  EXPECT_FALSE(c->closing);
}

TEST_F(HubCalls, TheClientsStreamErrorReachesTheMethod) {
  auto c = handshaken(*hub, io);
  hub->receive(
      c,
      "{\"type\":1,\"invocationId\":\"9\",\"target\":\"Sum\",\"arguments\":[],"
      "\"streamIds\":[\"1\"]}\x1e{\"type\":3,\"invocationId\":\"1\",\"error\":\"boom\"}\x1e");
  EXPECT_EQ(c->take_output(),
            "{\"type\":3,\"invocationId\":\"9\",\"error\":\"stream failed: boom\"}\x1e");
  EXPECT_EQ(hub->stats().invocation_errors, 1u);
}

TEST_F(HubCalls, ItemsWaitForTheirHandlerWithinALimit) {
  ClientStream s("1", 2);
  EXPECT_TRUE(s.push(1));
  EXPECT_TRUE(s.push(2));
  EXPECT_FALSE(s.push(3));  // over the limit: the hub closes the connection
  s.end(std::nullopt);
  std::vector<std::int64_t> got;
  bool ended = false;
  s.on_end([&](const std::optional<std::string>& e) { ended = !e; });
  EXPECT_FALSE(ended);  // not before the waiting items are taken
  s.on_item([&](json::value& v) { got.push_back(v.as_int64()); });
  EXPECT_EQ(got, (std::vector<std::int64_t>{1, 2}));
  EXPECT_TRUE(ended);
}

TEST_F(HubCalls, AStreamNobodyReadsClosesTheConnectionAtTheLimit) {
  hub->on_call("Ignore", [](std::shared_ptr<Hub::Call>) {});  // never reads its stream
  auto c = handshaken(*hub, io);
  std::string in =
      "{\"type\":1,\"invocationId\":\"9\",\"target\":\"Ignore\",\"arguments\":[],\"streamIds\":["
      "\"s\"]}"
      "\x1e";
  for (int i = 0; i < 5; ++i) in += "{\"type\":2,\"invocationId\":\"s\",\"item\":0}\x1e";
  hub->receive(c, in);
  ASSERT_TRUE(c->closing);
  auto out = c->take_output();
  EXPECT_NE(out.find("The client-to-server stream 's' has more than 4 items"), std::string::npos)
      << out;
}

TEST_F(HubCalls, StreamsAreRefusedWhereTheyCannotBeRead) {
  auto c = handshaken(*hub, io);
  // A plain method takes no streams.
  hub->receive(c,
               "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Plain\",\"arguments\":[],"
               "\"streamIds\":[\"a\"]}\x1e");
  auto out = c->take_output();
  EXPECT_NE(out.find("\"invocationId\":\"1\",\"error\":"), std::string::npos) << out;
  EXPECT_NE(out.find("takes no client-to-server streams"), std::string::npos) << out;
  // The same stream id twice.
  hub->receive(c,
               "{\"type\":1,\"invocationId\":\"2\",\"target\":\"Sum\",\"arguments\":[],"
               "\"streamIds\":[\"a\",\"a\"]}\x1e");
  EXPECT_NE(c->take_output().find("Stream ID 'a' is already in use."), std::string::npos);
  // More open at once than max_calls (3): the third Sum would make 4.
  hub->receive(c,
               "{\"type\":1,\"invocationId\":\"3\",\"target\":\"Sum\",\"arguments\":[],"
               "\"streamIds\":[\"b\"]}\x1e");
  EXPECT_TRUE(c->output.empty());
  hub->receive(c,
               "{\"type\":1,\"invocationId\":\"4\",\"target\":\"Sum\",\"arguments\":[],"
               "\"streamIds\":[\"c\"]}\x1e");
  out = c->take_output();
  EXPECT_NE(out.find("calls and streams open, the most this server allows"), std::string::npos)
      << out;
  // An invocation id in use.
  hub->receive(c, "{\"type\":4,\"invocationId\":\"3\",\"target\":\"Ticks\",\"arguments\":[]}\x1e");
  EXPECT_NE(c->take_output().find("Invocation ID '3' is already in use."), std::string::npos);
  EXPECT_FALSE(c->closing);
}

TEST_F(HubCalls, AStreamProducedOverTimeStopsAtCancelInvocation) {
  auto c = handshaken(*hub, io);
  hub->receive(c, "{\"type\":4,\"invocationId\":\"5\",\"target\":\"Ticks\",\"arguments\":[]}\x1e");
  ASSERT_TRUE(ticker);
  EXPECT_TRUE(c->output.empty());
  EXPECT_TRUE(ticker->write(1));
  EXPECT_TRUE(ticker->write(2));
  EXPECT_EQ(ticker->backlog(), 2u);
  EXPECT_EQ(c->take_output(),
            "{\"type\":2,\"invocationId\":\"5\",\"item\":1}\x1e"
            "{\"type\":2,\"invocationId\":\"5\",\"item\":2}\x1e");
  hub->receive(c, "{\"type\":5,\"invocationId\":\"5\"}\x1e");
  EXPECT_EQ(seen, std::vector<std::string>{"ticks cancelled"});
  EXPECT_TRUE(ticker->cancelled());
  EXPECT_FALSE(ticker->write(3));
  ticker->complete();  // too late: nothing more goes out
  EXPECT_TRUE(c->output.empty());
  EXPECT_TRUE(c->calls.empty());
}

TEST_F(HubCalls, AStreamCompletesWithoutAResult) {
  auto c = handshaken(*hub, io);
  hub->receive(c, "{\"type\":4,\"invocationId\":\"5\",\"target\":\"Ticks\",\"arguments\":[]}\x1e");
  ticker->write("a");
  ticker->complete(7);  // a stream's Completion carries no result
  EXPECT_EQ(c->take_output(),
            "{\"type\":2,\"invocationId\":\"5\",\"item\":\"a\"}\x1e"
            "{\"type\":3,\"invocationId\":\"5\"}\x1e");
  EXPECT_TRUE(seen.empty());
}

TEST_F(HubCalls, ALeavingConnectionCutsItsStreamsAndCancelsItsCalls) {
  auto c = handshaken(*hub, io);
  hub->receive(c,
               "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Sum\",\"arguments\":[],"
               "\"streamIds\":[\"s\"]}\x1e"
               "{\"type\":4,\"invocationId\":\"2\",\"target\":\"Ticks\",\"arguments\":[]}\x1e");
  hub->remove(c);
  // The stream ends with an error first (its method fails the call), then
  // what is still open is cancelled.
  EXPECT_EQ(seen, (std::vector<std::string>{"end the connection ended", "ticks cancelled"}));
  EXPECT_FALSE(ticker->write(1));
  EXPECT_TRUE(c->calls.empty());
  EXPECT_TRUE(c->uploads.empty());
}

TEST_F(HubCalls, AClientResultOnThisInstance) {
  auto a = handshaken(*hub, io), b = handshaken(*hub, io);
  std::vector<Hub::ClientResult> results;
  hub->invoke_client(a->id, "Ask", {"q"}, [&](Hub::ClientResult r) { results.push_back(r); });
  EXPECT_EQ(a->take_output(),
            "{\"type\":1,\"target\":\"Ask\",\"arguments\":[\"q\"],\"invocationId\":\"r1\"}\x1e");
  // Another connection cannot answer for it.
  hub->receive(b, "{\"type\":3,\"invocationId\":\"r1\",\"result\":\"forged\"}\x1e");
  EXPECT_TRUE(results.empty());
  hub->receive(a, "{\"type\":3,\"invocationId\":\"r1\",\"result\":\"yes\"}\x1e");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok);
  EXPECT_EQ(results[0].result, json::value("yes"));
  // Answered once only.
  hub->receive(a, "{\"type\":3,\"invocationId\":\"r1\",\"result\":\"again\"}\x1e");
  EXPECT_EQ(results.size(), 1u);

  // The client's error, as its handler threw it.
  hub->invoke_client(a->id, "Ask", {}, [&](Hub::ClientResult r) { results.push_back(r); });
  hub->receive(
      a, "{\"type\":3,\"invocationId\":\"r2\",\"error\":\"Client didn't provide a result.\"}\x1e");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[1].ok);
  EXPECT_EQ(results[1].error, "Client didn't provide a result.");

  // Unknown connection (no backplane): at once.
  hub->invoke_client("nobody", "Ask", {}, [&](Hub::ClientResult r) { results.push_back(r); });
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2].error, "Connection 'nobody' does not exist.");

  // The connection leaves before it answers.
  hub->invoke_client(a->id, "Ask", {}, [&](Hub::ClientResult r) { results.push_back(r); });
  hub->remove(a);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[3].error, "Invocation canceled due to the underlying connection being closed.");
}

TEST_F(HubCalls, AClientResultInMessagePack) {
  auto c = handshaken(*hub, io, "messagepack");
  std::optional<Hub::ClientResult> got;
  hub->invoke_client(c->id, "Ask", {1}, [&](Hub::ClientResult r) { got = r; });
  EXPECT_EQ(c->take_output(), invocation("Ask", {1}, "r1", Protocol::messagepack));
  // [3, {}, "r1", 3, 2.5]
  std::string answer = {'\x95', '\x03', '\x80', '\xa2', 'r', '1', '\x03', '\xcb'};
  answer += std::string("\x40\x04\x00\x00\x00\x00\x00\x00", 8);
  hub->receive(c, binary_frame(answer));
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->ok);
  EXPECT_EQ(got->result, json::value(2.5));
}

TEST(HubClientResults, UnansweredTimesOut) {
  boost::asio::io_context io;
  HubOptions o;
  o.client_result_timeout = std::chrono::milliseconds(1);
  auto hub = Hub::create(nullptr, o);
  auto c = handshaken(*hub, io);
  std::optional<Hub::ClientResult> got;
  hub->invoke_client(c->id, "Ask", {}, [&](Hub::ClientResult r) { got = r; });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!got && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->ok);
  EXPECT_EQ(got->error, "The client did not answer within 1 ms.");
  EXPECT_TRUE(c->owed_results.empty());
  // A late answer is ignored.
  hub->receive(c, "{\"type\":3,\"invocationId\":\"r1\",\"result\":1}\x1e");
  EXPECT_FALSE(c->closing);
}

TEST(HubClientResults, AcrossInstancesThroughTheBackplane) {
  // Scenario: a method on instance A asks a client connected to instance B.
  // A publishes a request on B's connection topic; B invokes its client and
  // publishes the answer on A's reply topic. The test carries both.
  boost::asio::io_context io;
  testing::FakeBackplane bp_a(io.get_executor()), bp_b(io.get_executor());
  auto a = Hub::create(&bp_a, {});
  auto b = Hub::create(&bp_b, {});
  auto client = handshaken(*b, io);
  std::optional<Hub::ClientResult> got;
  a->invoke_client(client->id, "Ask", {"q"}, [&](Hub::ClientResult r) { got = r; });
  ASSERT_EQ(bp_a.published.size(), 1u);
  auto [topic, request] = bp_a.published.back();
  EXPECT_EQ(topic, "signalr/hub/conn/" + client->id);
  bp_b.deliver(topic, request);
  auto sent = client->take_output();
  EXPECT_NE(sent.find("\"target\":\"Ask\",\"arguments\":[\"q\"],\"invocationId\":\"r1\""),
            std::string::npos)
      << sent;
  b->receive(client, "{\"type\":3,\"invocationId\":\"r1\",\"result\":{\"n\":1}}\x1e");
  ASSERT_EQ(bp_b.published.size(), 1u);
  auto [reply_topic, reply] = bp_b.published.back();
  EXPECT_EQ(reply_topic.rfind("signalr/hub/reply/", 0), 0u);
  EXPECT_FALSE(got);
  bp_a.deliver(reply_topic, reply);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->ok);
  EXPECT_EQ(json::serialize(got->result), R"({"n":1})");

  // A request for a connection B no longer has is answered with an error.
  got.reset();
  a->invoke_client(client->id, "Ask", {}, [&](Hub::ClientResult r) { got = r; });
  auto again = bp_a.published.back();
  b->remove(client);
  bp_b.handlers[again.first] = bp_b.handlers.begin()->second;  // as if still subscribed
  bp_b.deliver(again.first, again.second);
  bp_a.deliver(bp_b.published.back().first, bp_b.published.back().second);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->ok);
  EXPECT_EQ(got->error, "The connection is no longer connected.");
}

TEST(HubClientResults, ARefusedRequestFailsAtOnce) {
  boost::asio::io_context io;
  testing::FakeBackplane refusing(io.get_executor(), /*refuse=*/true);
  auto hub = Hub::create(&refusing, {});
  std::optional<Hub::ClientResult> got;
  hub->invoke_client("elsewhere", "Ask", {}, [&](Hub::ClientResult r) { got = r; });
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->ok);
  EXPECT_EQ(got->error, "The backplane refused the request; try again.");
}

// A connection no instance holds fails at once, not after the timeout; one
// that another instance holds waits for its client's answer.
TEST(HubClientResults, AConnectionNowhereFailsWithoutWaitingOutTheTimeout) {
  boost::asio::io_context io;
  testing::FakeBackplane bp(io.get_executor());
  bp.member_ids = {"here", "other"};
  std::string holder = "nobody-here";
  bp.answer = [&](const std::string& member, const std::string& topic, const std::string& payload) {
    EXPECT_EQ(member, "other");
    EXPECT_EQ(topic, "signalr/hub/exists");
    return mesh::Reply{true, payload.find(holder) != std::string::npos ? "true" : "false"};
  };
  auto hub = Hub::create(&bp, {});
  std::optional<Hub::ClientResult> got;
  hub->invoke_client("gone", "Ask", {}, [&](Hub::ClientResult r) { got = r; });
  io.poll();
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->ok);
  EXPECT_EQ(got->error, "Connection 'gone' does not exist.");

  holder = "held-elsewhere";
  std::optional<Hub::ClientResult> waiting;
  hub->invoke_client("held-elsewhere", "Ask", {}, [&](Hub::ClientResult r) { waiting = r; });
  io.poll();
  EXPECT_FALSE(waiting);  // until its instance answers, or the timeout
}

}  // namespace
}  // namespace tether::realtime
