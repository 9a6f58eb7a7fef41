// Malformed SignalR input over live connections, built to run under
// AddressSanitizer/UBSan/LeakSanitizer too (scripts/test.sh runs it so): a
// `tether up` plan of one signalr-chat instance, reached through its front
// door, gets bad handshakes, malformed hub messages, bad invocations,
// WebSocket frame abuse, and malformed Long Polling and Server-Sent Events
// requests. Each gets the answer docs/realtime.md documents (a handshake
// error, a Close message with an error, a Completion with an error, an HTTP
// status, or the connection closed), and after each a fresh client still
// chats through the same instance process. At the end the plan is stopped
// with SIGTERM and must exit 0 with no sanitizer report on its stderr (the
// instance's stderr is the plan's). docs/reliability.md lists the inputs.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <optional>

#include <boost/json.hpp>

#include "support/signalr_client.hpp"
#include "tether/realtime/hub_protocol.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char RS = kSignalrRecordSeparator;
const std::string kHub = "/statusHub";  // apps/signalr-chat/signalr_chat.cpp
const std::string kHandshake = std::string(R"({"protocol":"json","version":1})") + RS;
constexpr std::size_t kMaxMessage = 32 * 1024;  // HubOptions::max_message_bytes

std::string record(const std::string& text) { return text + RS; }

// Sanitizer reports go to stderr and make the exit code non-zero. Set for
// every child (they inherit our environment); harmless in a normal build.
void sanitizer_environment() {
  ::setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=86", 0);
  ::setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=87", 0);
}

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t type_of(const json::object& o) {
  auto* t = o.if_contains("type");
  return t && t->is_int64() ? t->as_int64() : -1;
}

// A Close message (type 7) carrying an error that contains `error`.
void expect_close_with_error(const std::optional<json::object>& m, const std::string& error,
                             const std::string& input) {
  ASSERT_TRUE(m) << "no Close message for " << input.substr(0, 120);
  EXPECT_EQ(type_of(*m), 7) << json::serialize(*m) << " for " << input.substr(0, 120);
  EXPECT_EQ(str(*m, "error").rfind("Connection closed with an error.", 0), 0u) << json::serialize(*m);
  EXPECT_NE(str(*m, "error").find(error), std::string::npos)
      << json::serialize(*m) << " for " << input.substr(0, 120);
  EXPECT_FALSE(m->if_contains("allowReconnect")) << json::serialize(*m);
}

class HostileSignalR : public ::testing::Test {
 protected:
  void SetUp() override {
    sanitizer_environment();
    plan_ = start_plan({"--app", "signalr-chat", "--instances", "1"});
    plan_.wait_ready(1);
    auto api = get(plan_.port, "/api");
    ASSERT_EQ(api.result_int(), 200);
    instance_ = api.body().substr(0, api.body().find('\n'));
    ASSERT_FALSE(instance_.empty());
    // The first broadcast also waits for the instance to join its mesh.
    ASSERT_NO_FATAL_FAILURE(expect_chat_works("start"));
  }
  void TearDown() override {
    if (HasFatalFailure() || IsSkipped()) return;
    expect_chat_works("the whole test");
    plan_.proc->signal(SIGTERM);
    int code = plan_.proc->wait(120s);
    auto err = plan_.proc->stderr_text();
    auto tail = err.substr(err.size() > 6000 ? err.size() - 6000 : 0);
    EXPECT_EQ(code, 0) << "tether up stderr tail:\n" << tail;
    EXPECT_EQ(err.find("Sanitizer"), std::string::npos) << err;
    EXPECT_EQ(err.find("runtime error:"), std::string::npos) << err;
    // The supervisor logs (at warn) an instance that died on its own.
    EXPECT_EQ(err.find("killed by signal"), std::string::npos) << tail;
    EXPECT_EQ(err.find("exited with status"), std::string::npos) << tail;
  }

  // POST <hub>/negotiate: the connection token.
  std::string negotiate() {
    http::Client c("127.0.0.1", plan_.port, 60s);
    auto res = c.post(kHub + "/negotiate?negotiateVersion=1", "", "text/plain");
    EXPECT_EQ(res.result_int(), 200) << res.body();
    return str(parse_object(res.body()), "connectionToken");
  }

  // A negotiated WebSocket, before the handshake.
  std::unique_ptr<HubSocket> open_socket() {
    return std::make_unique<HubSocket>(plan_.port, kHub + "?id=" + negotiate());
  }

  // A negotiated WebSocket after a successful handshake.
  std::unique_ptr<HubSocket> open_hub() {
    auto s = open_socket();
    EXPECT_TRUE(s->send(kHandshake));
    auto ok = s->next_record();
    EXPECT_EQ(ok.value_or("(none)"), "{}");
    return s;
  }

  // One HTTP request through the front door, on a connection of its own.
  http::Response request(bhttp::verb verb, const std::string& target, std::string body = {}) {
    http::Client c("127.0.0.1", plan_.port, 120s);
    http::Request req{verb, target, 11};
    if (verb == bhttp::verb::post) req.set(bhttp::field::content_type, "text/plain;charset=UTF-8");
    req.body() = std::move(body);
    req.prepare_payload();
    return c.send(std::move(req));
  }

  json::object status() {
    return parse_object(get(plan_.port, "/realtime/status").body());
  }
  std::uint64_t counter(const char* name) { return status().at(name).to_number<std::uint64_t>(); }

  // Scenario of every probe: a fresh, well-formed client negotiates,
  // connects over WebSockets, invokes SendMessage and receives its own
  // broadcast, sent by the same instance process as at the start (a crashed
  // instance would have been replaced by one with a new id).
  void expect_chat_works(const std::string& after) {
    SCOPED_TRACE("chat after: " + after.substr(0, 120));
    auto hub = open_hub();
    const std::string text = "probe " + std::to_string(++probes_);
    ASSERT_TRUE(hub->send(record(json::serialize(json::object{
        {"type", 1}, {"invocationId", "p"}, {"target", "SendMessage"},
        {"arguments", json::array{"prober", text}}}))));
    bool completed = false, received = false;
    while (!completed || !received) {
      auto m = hub->next_message();
      ASSERT_TRUE(m) << "completed " << completed << ", received " << received;
      if (type_of(*m) == 3 && str(*m, "invocationId") == "p") {
        EXPECT_FALSE(m->if_contains("error")) << json::serialize(*m);
        completed = true;
      } else if (type_of(*m) == 1 && str(*m, "target") == "ReceiveMessage") {
        auto& args = m->at("arguments").as_array();
        ASSERT_EQ(args.size(), 3u) << json::serialize(*m);
        if (args[1].as_string() != text) continue;  // an earlier client's
        EXPECT_EQ(args[2].as_string(), instance_) << "the instance was replaced";
        received = true;
      }
    }
    hub->close();
  }

  PlanProc plan_;
  std::string instance_;
  int probes_ = 0;
};

TEST_F(HostileSignalR, BadHandshakesGetAnErrorAndTheConnectionCloses) {
  // Scenario: the first record is not a usable handshake: an unsupported
  // protocol or version, a property missing or of the wrong type, text
  // before the JSON, a nesting bomb. Each gets {"error": <ASP.NET Core's
  // text>} and the connection closes; a record after a refused handshake is
  // never read. A handshake without its separator followed by a close is
  // simply dropped.
  const std::string bomb(30'000, '[');  // deeper than the parser's 32, within 32 KiB
  const std::pair<std::string, std::string> cases[] = {
      {R"({"protocol":"xml","version":1})", "The protocol 'xml' is not supported."},
      {R"({"protocol":"json","version":99})",
       "The server does not support version 99 of the 'json' protocol."},
      {R"({"version":1})", "Missing required property 'protocol'."},
      {R"({"protocol":["json"],"version":1})", "Missing required property 'protocol'."},
      {R"({"protocol":"json","version":"1"})", "Missing required property 'version'."},
      {R"({"protocol":"json","version":1.5})", "Missing required property 'version'."},
      {R"(garbage{"protocol":"json","version":1})", "Handshake request is not a JSON object."},
      {R"(["protocol","json"])", "Handshake request is not a JSON object."},
      {"", "Handshake request is not a JSON object."},
      {bomb, "Handshake request is not a JSON object."},
      {"{\"protocol\":\"js\xff\",\"version\":1}", "Handshake request is not a JSON object."},
  };
  for (const auto& [input, error] : cases) {
    auto s = open_socket();
    // The bad record, then a good handshake that must go unanswered.
    s->send(record(input) + kHandshake, input.find('\xff') != std::string::npos);
    auto answer = s->next_record();
    ASSERT_TRUE(answer) << input.substr(0, 80);
    EXPECT_EQ(str(parse_object(*answer), "error"), error) << *answer;
    EXPECT_TRUE(s->ends()) << input.substr(0, 80);
    expect_chat_works(input);
  }
  {
    // Over the 32 KiB record limit before the handshake: closed, no answer.
    auto s = open_socket();
    s->send(record(R"({"protocol":"json","version":1,"x":")" + std::string(kMaxMessage, 'x') + "\"}"));
    EXPECT_TRUE(s->ends());
    expect_chat_works("a 32 KiB handshake");
  }
  {
    auto s = open_socket();
    ASSERT_TRUE(s->send(R"({"protocol":"json","version":1})"));  // no separator
    s->close();
    expect_chat_works("a handshake without its separator, then close");
  }
  {
    // skipNegotiation: a WebSocket without ?id= is a connection of its own.
    HubSocket s(plan_.port, kHub);
    s.send(record(R"({"protocol":"json","version":0})"));
    auto answer = s.next_record();
    ASSERT_TRUE(answer);
    EXPECT_EQ(str(parse_object(*answer), "error"),
              "The server does not support version 0 of the 'json' protocol.");
    EXPECT_TRUE(s.ends());
    expect_chat_works("a bad handshake without negotiate");
  }
}

TEST_F(HostileSignalR, MalformedMessagesCloseWithAnError) {
  // Scenario: after a good handshake, a record that is not a valid hub
  // message: not JSON, not an object, "type" missing or not an integer, an
  // invocation without a target or with arguments that are not an array, a
  // non-string invocationId, a second handshake, a nesting bomb, invalid
  // UTF-8 (in a binary frame: a text frame would not get past the WebSocket
  // layer), a record over the 32 KiB limit with and without its separator.
  // Each closes the connection with a Close message carrying the error.
  const std::string deep = R"({"type":1,"target":"SendMessage","arguments":)" +
                           std::string(30'000, '[');
  const std::string big_text(kMaxMessage, 'x');
  const std::pair<std::string, std::string> cases[] = {
      {"not json\x1e", "message is not a JSON object"},
      {"[1,2,3]\x1e", "message is not a JSON object"},
      {"\"text\"\x1e", "message is not a JSON object"},
      {"\x1e", "message is not a JSON object"},
      {"{\"type\":1,\"target\":\"SendMessage\",\x1e", "message is not a JSON object"},
      {R"({"target":"SendMessage","arguments":["a","b"]})" "\x1e", "Missing required property 'type'."},
      {R"({"type":"1","target":"SendMessage","arguments":["a","b"]})" "\x1e",
       "Missing required property 'type'."},
      {R"({"type":1.0,"target":"SendMessage","arguments":["a","b"]})" "\x1e",
       "Missing required property 'type'."},
      {R"({"type":null})" "\x1e", "Missing required property 'type'."},
      {R"({"type":1,"invocationId":"1","arguments":["a","b"]})" "\x1e",
       "Missing required property 'target'."},
      {R"({"type":1,"invocationId":"1","target":7,"arguments":["a","b"]})" "\x1e",
       "Missing required property 'target'."},
      {R"({"type":1,"invocationId":"1","target":"SendMessage","arguments":{"0":"a"}})" "\x1e",
       "Missing required property 'arguments'."},
      {R"({"type":4,"invocationId":"1","target":"Countdown"})" "\x1e",
       "Missing required property 'arguments'."},
      {R"({"type":1,"invocationId":1,"target":"SendMessage","arguments":["a","b"]})" "\x1e",
       "Expected 'invocationId' to be of type String."},
      {kHandshake, "Missing required property 'type'."},
      {deep + "\x1e", "message is not a JSON object"},
      {"{\"type\":1,\"target\":\"SendMessage\",\"arguments\":[\"\xff\xfe\",\"\xc3\x28\"]}\x1e",
       "message is not a JSON object"},
      {std::string("\x00\x01\x02garbage\x1e", 11), "message is not a JSON object"},
      {R"({"type":1,"target":"SendMessage","arguments":["a",")" + big_text + "\"]}\x1e",
       "The maximum message size of 32768B was exceeded."},
      {R"({"type":1,"target":"SendMessage","arguments":["a",")" + big_text,
       "The maximum message size of 32768B was exceeded."},
  };
  for (const auto& [input, error] : cases) {
    auto s = open_hub();
    const bool binary = input.find('\xff') != std::string::npos || input[0] == '\0';
    ASSERT_TRUE(s->send(input, binary));
    expect_close_with_error(s->next_message(), error, input);
    EXPECT_TRUE(s->ends()) << input.substr(0, 80);
    expect_chat_works(input);
  }
  // A type outside the int range must not wrap around to a known type
  // (4294967297 is 2^32 + 1: 1, an invocation, once truncated to 32 bits).
  {
    auto s = open_hub();
    ASSERT_TRUE(s->send(record(
        R"({"type":4294967297,"invocationId":"1","target":"WhoAmI","arguments":[]})")));
    expect_close_with_error(s->next_message(), "Missing required property 'type'.", "type 2^32+1");
    EXPECT_TRUE(s->ends());
    expect_chat_works("type 2^32+1");
  }
}

TEST_F(HostileSignalR, MalformedMessagePackClosesWithAnError) {
  // Scenario (issue 16 part 7): after a good "messagepack" handshake, binary
  // frames that are no valid MessagePack hub message: length prefixes that
  // announce 2 GiB or more than the 32 KiB limit, a message cut inside a
  // value, wrong array lengths, wrong types, a declared length far beyond
  // the message (an array of 2^32 - 1 elements in 6 bytes), a map key that
  // is not a string. Each closes the connection with a MessagePack Close
  // message carrying the error; the instance keeps serving.
  auto bytes = [](std::initializer_list<int> b) {
    std::string out;
    for (int c : b) out += static_cast<char>(c);
    return out;
  };
  auto framed = [&](std::initializer_list<int> b) {
    return tether::realtime::binary_frame(bytes(b));
  };
  const std::pair<std::string, std::string> cases[] = {
      {bytes({0xff, 0xff, 0xff, 0xff, 0x0f}), "Messages over 2GB in size are not supported."},
      {bytes({0x80, 0x80, 0x04}), "The maximum message size of 32768B was exceeded."},
      {framed({0x95, 0x01, 0x80}), "array size overflow"},  // 5 elements in 3 bytes
      {framed({0x92, 0x01}), "the message ends inside a MessagePack value"},
      {framed({0x93, 0x01, 0x80, 0xc0}), "Invalid payload for Invocation message"},
      {framed({0x95, 0x01, 0x80, 0xc0, 0x07, 0x90}), "Reading 'target' as String failed."},
      {framed({0x95, 0x01, 0x80, 0x01, 0xa1, 'x', 0x90}),
       "Reading 'invocationId' as String failed."},
      {framed({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x80}), "'arguments'"},
      {framed({0x81, 0xa1, 't', 0x01}), "the message is not an array"},
      {framed({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}), "not a MessagePack message"},
      {framed({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x91, 0x81, 0x01, 0xc0}),
       "a map key is not a string"},
      {framed({0x91, 0x06, 0x00}), "bytes follow the message"},
  };
  for (const auto& [input, error] : cases) {
    SCOPED_TRACE(error);
    auto s = open_socket();
    ASSERT_TRUE(s->send(record(R"({"protocol":"messagepack","version":1})")));
    ASSERT_EQ(s->next_record().value_or("(none)"), "{}");
    ASSERT_TRUE(s->send(input, /*binary=*/true));
    auto close = s->next_binary_message();
    ASSERT_TRUE(close);
    EXPECT_EQ(close->substr(0, 2), bytes({0x93, 0x07}));  // [7, error, allowReconnect]
    EXPECT_NE(close->find("Connection closed with an error. InvalidDataException: "),
              std::string::npos);
    EXPECT_NE(close->find(error), std::string::npos) << *close;
    EXPECT_TRUE(s->ends());
    expect_chat_works(error);
  }
}

TEST_F(HostileSignalR, BadInvocationsFailOnlyThatInvocation) {
  // Scenario: well-formed invocations the hub cannot run: an unknown method
  // (plain and streaming), wrong argument types or counts, an argument too
  // long, client-to-server streams to a method that takes none and none to
  // one that needs one, a stream method invoked as a plain one. Each with an invocationId gets a
  // Completion with the error and the connection stays open; without one,
  // nothing. Messages of unknown or client-only types (42, -1, Completion,
  // StreamItem, CancelInvocation, Ping, Ack, Sequence) are ignored. Records
  // split over frames, several in one frame, and a binary frame are read
  // as the same byte stream; the same connection then still works.
  auto s = open_hub();
  const std::pair<std::string, std::string> failing[] = {
      {R"({"type":1,"invocationId":"1","target":"NoSuchMethod","arguments":[]})",
       "Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does "
       "not exist."},
      {R"({"type":4,"invocationId":"2","target":"NoSuchStream","arguments":[]})",
       "Failed to invoke 'NoSuchStream' due to an error on the server. HubException: Method does "
       "not exist."},
      {R"({"type":1,"invocationId":"3","target":"SendMessage","arguments":[1,true]})",
       "argument 1 (name) must be a string"},
      {R"({"type":1,"invocationId":"4","target":"SendMessage","arguments":[]})",
       "argument 1 (name) must be a string"},
      {R"({"type":1,"invocationId":"5","target":"SendMessage","arguments":["a",{"deep":[[1]]}]})",
       "argument 2 (text) must be a string"},
      {R"({"type":1,"invocationId":"6","target":"SendMessage","arguments":[")" +
           std::string(65, 'n') + R"(","x"]})",
       "name is too long"},
      {R"({"type":1,"invocationId":"7","target":"JoinGroup","arguments":[null]})",
       "argument 1 (group) must be a string"},
      {R"({"type":4,"invocationId":"8","target":"Countdown","arguments":["ten"]})",
       "Countdown takes a number from 0 to 1000"},
      {R"({"type":4,"invocationId":"9","target":"Countdown","arguments":[-1]})",
       "Countdown takes a number from 0 to 1000"},
      {R"({"type":4,"invocationId":"10","target":"Countdown","arguments":[1e300]})",
       "Countdown takes a number from 0 to 1000"},
      {R"({"type":1,"invocationId":"11","target":"SendMessage","arguments":["a","b"],"streamIds":["s"]})",
       "Failed to invoke 'SendMessage' due to an error on the server. The method takes no "
       "client-to-server streams."},
      {R"({"type":1,"invocationId":"12","target":"UploadMessages","arguments":["a"]})",
       "UploadMessages takes a name and one stream of texts"},
      {R"({"type":1,"invocationId":"13","target":"UploadMessages","arguments":[],"streamIds":["u"]})",
       "argument 1 (name) must be a string"},
      {R"({"type":4,"invocationId":"14","target":"Counter","arguments":[1e300,1]})",
       "argument 1 (count) must be a number from 0 to 100000"},
      {R"({"type":4,"invocationId":"15","target":"Counter","arguments":[1,-5]})",
       "argument 2 (delay in ms) must be a number from 0 to 10000"},
      {R"({"type":1,"invocationId":"16","target":"Counter","arguments":[1,1]})",
       "The client attempted to invoke the streaming 'Counter' method with a non-streaming "
       "invocation."},
      {R"({"type":4,"invocationId":"18","target":"SendMessage","arguments":["a","b"]})",
       "The client attempted to invoke the non-streaming 'SendMessage' method with a streaming "
       "invocation."},
      {R"({"type":1,"invocationId":"17","target":"AskClient","arguments":[5,"q"]})",
       "argument 1 (connection id) must be a string"},
      {R"({"type":1,"invocationId":"","target":"NoSuchMethod","arguments":[]})", ""},
  };
  for (const auto& [input, error] : failing) {
    ASSERT_TRUE(s->send(record(input)));
    if (error.empty()) continue;  // an empty invocationId is a non-blocking invocation
    auto m = s->next_message();
    ASSERT_TRUE(m) << input;
    EXPECT_EQ(type_of(*m), 3) << json::serialize(*m);
    EXPECT_EQ(str(*m, "invocationId"), str(parse_object(input), "invocationId"));
    EXPECT_EQ(str(*m, "error"), error) << input;
  }
  // Ignored: non-blocking failures and types the server does not act on,
  // all in one frame; then WhoAmI split over three frames. Its Completion
  // must be the next message.
  std::string ignored;
  for (const char* r : {R"({"type":1,"target":"NoSuchMethod","arguments":[]})",
                        R"({"type":1,"target":"SendMessage","arguments":[1]})",
                        R"({"type":42,"invocationId":"x"})", R"({"type":-1})",
                        R"({"type":3,"invocationId":"x","result":1})",
                        R"({"type":2,"invocationId":"x","item":1})",
                        R"({"type":5,"invocationId":"8"})", R"({"type":6})",
                        R"({"type":8,"sequenceId":1})", R"({"type":9,"sequenceId":1})"})
    ignored += record(r);
  ASSERT_TRUE(s->send(ignored));
  const std::string who = record(R"({"type":1,"invocationId":"who","target":"WhoAmI","arguments":[]})");
  ASSERT_TRUE(s->send(who.substr(0, 10)));
  ASSERT_TRUE(s->send(who.substr(10, 20)));
  ASSERT_TRUE(s->send(who.substr(30)));
  auto m = s->next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(str(*m, "invocationId"), "who") << json::serialize(*m);
  ASSERT_TRUE(m->if_contains("result")) << json::serialize(*m);
  EXPECT_EQ(m->at("result").at("transport").as_string(), "WebSockets");
  // The same bytes in a binary frame (negotiate offers Binary for WebSockets).
  ASSERT_TRUE(s->send(record(R"({"type":4,"invocationId":"bin","target":"Countdown","arguments":[2]})"),
                      true));
  for (std::int64_t expected : {2, 1}) {
    m = s->next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(type_of(*m), 2) << json::serialize(*m);
    EXPECT_EQ(m->at("item").as_int64(), expected);
  }
  m = s->next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(type_of(*m), 3);
  EXPECT_EQ(str(*m, "invocationId"), "bin");
  EXPECT_FALSE(m->if_contains("error")) << json::serialize(*m);
  // A Close message from the client ends the connection without an answer.
  ASSERT_TRUE(s->send(record(R"({"type":7,"error":"bye"})")));
  EXPECT_TRUE(s->ends());
  expect_chat_works("bad invocations");
}

TEST_F(HostileSignalR, WebSocketFrameAbuse) {
  // Scenario: abuse below the hub protocol: invalid UTF-8 in a text frame
  // (before and after the handshake: a WebSocket protocol error, close code
  // 1007, no hub message), a frame over the transport's limit (4 x 32 KiB:
  // close code 1009, or a reset), a record cut off by the client's close (never
  // dispatched), and a few records that make the server queue more than
  // 4,096 messages (the client is dropped and counted).
  {
    auto s = open_socket();
    ASSERT_TRUE(s->send("{\"protocol\":\"\xff\xfe\"}\x1e"));
    EXPECT_TRUE(s->ends());
    EXPECT_EQ(s->close_code(), 1007);
    expect_chat_works("invalid UTF-8 in a text frame, before the handshake");
  }
  {
    auto s = open_hub();
    ASSERT_TRUE(s->send("{\"type\":1,\"target\":\"SendMessage\",\"arguments\":[\"\xc3\x28\",\"x\"]}\x1e"));
    EXPECT_TRUE(s->ends());
    EXPECT_EQ(s->close_code(), 1007);
    expect_chat_works("invalid UTF-8 in a text frame");
  }
  {
    auto s = open_hub();
    s->send(std::string(8 * kMaxMessage, 'x'));  // may fail: the server closes first
    EXPECT_TRUE(s->ends());
    // 1009, unless the front door closed our side with the rest of the
    // frame still unread there: then a reset, which loses the close frame.
    EXPECT_TRUE(s->close_code() == 1009 || s->close_code() == 0) << s->close_code();
    expect_chat_works("a 256 KiB frame");
  }
  {
    auto idle = [&] { return status().at("connections").to_number<std::uint64_t>() == 0; };
    ASSERT_TRUE(eventually(idle));
    const auto invocations = counter("invocations");
    auto s = open_hub();
    ASSERT_TRUE(s->send(R"({"type":1,"invocationId":"1","target":"SendMessage","arguments":["cut","off"]})"));
    s->close();
    ASSERT_TRUE(eventually(idle));
    EXPECT_EQ(counter("invocations"), invocations) << "a record without its separator was dispatched";
    expect_chat_works("a record without its separator, then close");
  }
  {
    const auto dropped = counter("slow_clients_dropped");
    auto s = open_hub();
    std::string flood;
    for (int i = 0; i < 5; ++i)
      flood += record(R"({"type":4,"invocationId":"c)" + std::to_string(i) +
                      R"(","target":"Countdown","arguments":[1000]})");
    ASSERT_TRUE(s->send(flood));
    // All 4,096 were queued while the one frame was read: the client is
    // dropped before any is written, and the connection ends.
    EXPECT_TRUE(s->ends());
    EXPECT_TRUE(eventually([&] { return counter("slow_clients_dropped") == dropped + 1; }));
    expect_chat_works("5 x Countdown(1000) in one frame");
  }
}

TEST_F(HostileSignalR, LongPollingMalformedPosts) {
  // Scenario: Long Polling with malformed POST bodies. A POST is answered
  // 200 whatever it carries (the hub reads it as it arrives, as ASP.NET
  // Core does); what the hub makes of it comes with the next poll: a
  // handshake error, a Completion with an error (the connection stays), or
  // a Close message with an error. The poll after that is 204 (the
  // connection ended), and the id is then unknown (404). Every poll here
  // has something queued, so none waits.
  auto poll = [&](const std::string& token) { return request(bhttp::verb::get, kHub + "?id=" + token); };
  auto post = [&](const std::string& token, std::string body) {
    return request(bhttp::verb::post, kHub + "?id=" + token, std::move(body));
  };
  auto start = [&] {
    auto token = negotiate();
    auto first = poll(token);  // the first poll answers at once
    EXPECT_EQ(first.result_int(), 200);
    EXPECT_EQ(first.body(), "");
    return token;
  };
  auto expect_ended = [&](const std::string& token) {
    EXPECT_EQ(poll(token).result_int(), 204);
    EXPECT_EQ(post(token, kHandshake).result_int(), 404);
    EXPECT_EQ(poll(token).result_int(), 404);
  };
  for (const std::string& bad : {record(R"({"protocol":"json","version":99})"),
                                 std::string("\xff\xfe\x1e"), record(std::string(30'000, '['))}) {
    auto token = start();
    EXPECT_EQ(post(token, bad).result_int(), 200);
    auto res = poll(token);
    EXPECT_EQ(res.result_int(), 200);
    ASSERT_FALSE(res.body().empty());
    auto answer = parse_object(res.body().substr(0, res.body().find(RS)));
    EXPECT_TRUE(answer.if_contains("error")) << res.body();
    EXPECT_EQ(res.body().back(), RS);
    expect_ended(token);
    expect_chat_works("Long Polling: bad handshake " + bad.substr(0, 40));
  }
  const std::pair<std::string, std::string> closing[] = {
      {"not json\x1e", "message is not a JSON object"},
      {"{\"type\":1,\"target\":\"SendMessage\",\"arguments\":[\"\xff\",\"x\"]}\x1e",
       "message is not a JSON object"},
      {R"({"type":1,"invocationId":"1","target":"SendMessage","arguments":"a,b"})" "\x1e",
       "Missing required property 'arguments'."},
      {R"({"type":"invocation"})" "\x1e", "Missing required property 'type'."},
      {kHandshake, "Missing required property 'type'."},
      {std::string(2 * kMaxMessage, '{'), "The maximum message size of 32768B was exceeded."},
  };
  for (const auto& [input, error] : closing) {
    auto token = start();
    EXPECT_EQ(post(token, kHandshake).result_int(), 200);
    EXPECT_EQ(poll(token).body(), "{}\x1e");
    // A bad invocation first: its Completion comes, the connection stays.
    EXPECT_EQ(post(token, record(R"({"type":1,"invocationId":"7","target":"SendMessage","arguments":[]})"))
                  .result_int(),
              200);
    auto res = poll(token);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(),
              "{\"type\":3,\"invocationId\":\"7\",\"error\":\"argument 1 (name) must be a string\"}\x1e");
    // Then the malformed one.
    EXPECT_EQ(post(token, input).result_int(), 200);
    res = poll(token);
    EXPECT_EQ(res.result_int(), 200);
    ASSERT_FALSE(res.body().empty());
    EXPECT_EQ(res.body().back(), RS);
    expect_close_with_error(parse_object(res.body().substr(0, res.body().size() - 1)), error, input);
    expect_ended(token);
    expect_chat_works("Long Polling: " + input);
  }
}

TEST_F(HostileSignalR, ServerSentEventsMalformedPosts) {
  // Scenario: a Server-Sent Events connection gets, by POST, a bad
  // invocation (a Completion with the error arrives as an event, the stream
  // stays) and then a malformed message (a Close message with the error,
  // then the stream ends and the id is forgotten). While it is open, a
  // second event stream, a poll, a DELETE (400 each) and a WebSocket (409)
  // on the same id are refused. A bad handshake by POST gets its error as
  // an event and ends the stream; a client that leaves with half a record
  // posted is forgotten.
  auto post = [&](const std::string& token, std::string body) {
    return request(bhttp::verb::post, kHub + "?id=" + token, std::move(body));
  };
  {
    auto token = negotiate();
    EventStream events(plan_.port, kHub + "?id=" + token);
    ASSERT_EQ(events.status(), 200) << events.head();
    EventStream second(plan_.port, kHub + "?id=" + token);
    EXPECT_EQ(second.status(), 400) << second.head();
    EXPECT_EQ(request(bhttp::verb::get, kHub + "?id=" + token).result_int(), 400);
    EXPECT_EQ(request(bhttp::verb::delete_, kHub + "?id=" + token).result_int(), 400);
    EXPECT_EQ(upgrade_status(plan_.port, kHub + "?id=" + token), 409);
    EXPECT_EQ(post(token, kHandshake).result_int(), 200);
    EXPECT_TRUE(events.wait_for("data: {}\x1e")) << events.body();
    EXPECT_EQ(post(token, record(R"({"type":1,"invocationId":"5","target":"SendMessage","arguments":[null,"x"]})"))
                  .result_int(),
              200);
    EXPECT_TRUE(events.wait_for(
        "{\"type\":3,\"invocationId\":\"5\",\"error\":\"argument 1 (name) must be a string\"}\x1e"))
        << events.body();
    EXPECT_EQ(post(token, record(R"({"type":1,"invocationId":"6","arguments":[]})")).result_int(), 200);
    EXPECT_TRUE(events.wait_for("Missing required property 'target'.")) << events.body();
    EXPECT_NE(events.body().find("{\"type\":7,\"error\":\"Connection closed with an error."),
              std::string::npos)
        << events.body();
    EXPECT_TRUE(events.wait_for_end()) << events.body();
    EXPECT_TRUE(eventually([&] { return post(token, kHandshake).result_int() == 404; }));
    expect_chat_works("Server-Sent Events: a malformed message");
  }
  {
    auto token = negotiate();
    EventStream events(plan_.port, kHub + "?id=" + token);
    ASSERT_EQ(events.status(), 200) << events.head();
    EXPECT_EQ(post(token, record(R"({"protocol":"messagepack","version":1})")).result_int(), 200);
    // Server-Sent Events carry text only: MessagePack is refused, as by ASP.NET Core.
    EXPECT_TRUE(
        events.wait_for("data: {\"error\":\"Cannot use the 'messagepack' protocol on the "
                        "current transport. The transport does not support 'Binary' "
                        "transfer format.\"}\x1e"))
        << events.body();
    EXPECT_TRUE(events.wait_for_end()) << events.body();
    expect_chat_works("Server-Sent Events: a bad handshake");
  }
  {
    // Straight to the instance: the front door does not pass on a client's
    // close while it relays a streamed response, so through it the instance
    // would only learn of it by the client timeout (30 s without a ping).
    const std::uint16_t instance_port = static_cast<std::uint16_t>(
        plan_.status().at("processes").at(0).at("port").to_number<int>());
    auto idle = [&] { return status().at("connections").to_number<std::uint64_t>() == 0; };
    ASSERT_TRUE(eventually(idle));
    const auto invocations = counter("invocations");
    auto token = negotiate();
    {
      EventStream events(instance_port, kHub + "?id=" + token);
      ASSERT_EQ(events.status(), 200) << events.head();
      http::Client c("127.0.0.1", instance_port, 60s);
      EXPECT_EQ(c.post(kHub + "?id=" + token,
                       kHandshake + R"({"type":1,"target":"SendMessage","arguments":["half)",
                       "text/plain")
                    .result_int(),
                200);
      EXPECT_TRUE(events.wait_for("data: {}\x1e")) << events.body();
    }  // the client goes away
    ASSERT_TRUE(eventually(idle));
    EXPECT_EQ(counter("invocations"), invocations);
    expect_chat_works("Server-Sent Events: half a record, then gone");
  }
}

TEST_F(HostileSignalR, TransportMisuseGetsItsStatus) {
  // Scenario: requests that misuse the transports get the status the
  // endpoint documents (src/realtime/endpoint.cpp): a negotiateVersion
  // that is not a whole number 400 ("1x" was read as 1 before; a negative
  // one is version 0), an unknown id
  // 404 for every verb and for a WebSocket, a GET without id 400, a POST on
  // a WebSocket connection 405, a second WebSocket on one connection 409,
  // a DELETE of a connection that is not Long Polling 400.
  for (const char* v : {"abc", "99999999999999999999", "1x", ""}) {
    http::Client c("127.0.0.1", plan_.port, 60s);
    auto res = c.post(kHub + "/negotiate?negotiateVersion=" + v, "", "text/plain");
    EXPECT_EQ(res.result_int(), 400) << v << ": " << res.body();
  }
  {
    http::Client c("127.0.0.1", plan_.port, 60s);
    auto res = c.post(kHub + "/negotiate?negotiateVersion=-3", "", "text/plain");
    EXPECT_EQ(res.result_int(), 200);
    auto o = parse_object(res.body());
    EXPECT_EQ(o.at("negotiateVersion").as_int64(), 0) << res.body();
    EXPECT_FALSE(o.if_contains("connectionToken")) << res.body();
  }
  for (const std::string& id : {std::string("nope"), std::string(4000, 'a'), std::string("%FF%00")}) {
    auto target = kHub + "?id=" + id;
    for (auto verb : {bhttp::verb::get, bhttp::verb::post, bhttp::verb::delete_}) {
      auto res = request(verb, target, verb == bhttp::verb::post ? kHandshake : "");
      EXPECT_EQ(res.result_int(), 404) << verb << " " << id.substr(0, 20);
      EXPECT_NE(res.body().find("No Connection with that ID"), std::string::npos) << res.body();
    }
    EXPECT_EQ(upgrade_status(plan_.port, target), 404);
  }
  EXPECT_EQ(request(bhttp::verb::get, kHub).result_int(), 400);
  EXPECT_EQ(request(bhttp::verb::post, kHub, kHandshake).result_int(), 404);
  {
    auto token = negotiate();
    HubSocket s(plan_.port, kHub + "?id=" + token);
    EXPECT_EQ(upgrade_status(plan_.port, kHub + "?id=" + token), 409);
    EXPECT_EQ(request(bhttp::verb::post, kHub + "?id=" + token, kHandshake).result_int(), 405);
    EXPECT_EQ(request(bhttp::verb::delete_, kHub + "?id=" + token).result_int(), 400);
    ASSERT_TRUE(s.send(kHandshake));
    EXPECT_EQ(s.next_record().value_or("(none)"), "{}");
  }
  expect_chat_works("transport misuse");
}

}  // namespace
}  // namespace tether::test
