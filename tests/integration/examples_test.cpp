// The examples as a user runs them: `tether up -n 3 -- node
// examples/node-chat/server.js` and the Python one. A message sent to the
// app on one instance reaches the apps on every instance exactly once, each
// sender's in order, and a browser's event stream on another instance.
#include <map>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/sse_client.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

namespace json = boost::json;
const std::string kExamples = TETHER_EXAMPLES_DIR;

void chat_across_three_instances(std::vector<std::string> command) {
  std::vector<std::string> args{"--instances", "3", "--"};
  args.insert(args.end(), command.begin(), command.end());
  auto plan = start_plan(args);
  plan.wait_ready(3);
  std::vector<std::uint16_t> ports;
  const auto status = plan.status();  // kept: the loop reads into it
  for (const auto& p : status.at("processes").as_array())
    ports.push_back(static_cast<std::uint16_t>(p.at("port").to_number<int>()));
  ASSERT_EQ(ports.size(), 3u);
  // The mesh is formed when every instance lists 3 members.
  for (auto port : ports)
    ASSERT_TRUE(eventually([&] {
      auto r = get(port, "/.tether/mesh/status");
      return r.result_int() == 200 && json::parse(r.body()).at("members").as_array().size() == 3;
    }));
  // A browser on instance 2 listens.
  SseClient browser(ports[2], "/events");
  ASSERT_EQ(browser.status(), 200) << browser.head();
  const int per_instance = 10;
  for (int i = 0; i < per_instance; ++i)
    for (std::size_t s = 0; s < 2; ++s) {
      http::Client c("127.0.0.1", ports[s], std::chrono::seconds(30));
      auto r = c.post("/send",
                      json::serialize(json::object{{"name", "user" + std::to_string(s)},
                                                   {"text", std::to_string(i)}}),
                      "application/json");
      ASSERT_EQ(r.result_int(), 202) << r.body();
    }
  const std::size_t total = 2 * per_instance;
  for (auto port : ports) {
    json::array history;
    ASSERT_TRUE(eventually([&] {
      history = json::parse(get(port, "/history").body()).as_array();
      return history.size() >= total;
    })) << "instance on "
        << port << " has " << history.size() << " of " << total;
    EXPECT_EQ(history.size(), total);  // exactly once
    std::map<std::string, int> next;
    for (const auto& m : history) {
      std::string name(m.at("name").as_string());
      EXPECT_EQ(m.at("text").as_string(), std::to_string(next[name]++)) << name;
    }
    EXPECT_EQ(next["user0"], per_instance);
    EXPECT_EQ(next["user1"], per_instance);
  }
  // The browser got them too, as Server-Sent Events.
  int seen = 0;
  while (seen < static_cast<int>(total)) {
    auto e = browser.next();
    ASSERT_TRUE(e) << "the browser's stream ended after " << seen;
    if (e->data.find("\"text\"") != std::string::npos) ++seen;
  }
}

TEST(Examples, NodeChatLosesNothingAcceptedWhenTheHubIsKilled) {
  // Scenario: the Node.js chat on 3 instances; the app on a non-hub instance
  // takes 80 messages while the hub's instance is SIGKILLed (tether kill).
  // Every message its /send accepted (202) is in the history of the app on
  // the third instance exactly once, in order; the others were refused to
  // the sender (429/503 relayed by the app), never dropped in silence.
  auto plan = start_plan({"--instances", "3", "--", "node", kExamples + "/node-chat/server.js"});
  plan.wait_ready(3);
  std::vector<std::pair<std::string, std::uint16_t>> instances;
  const auto status = plan.status();  // kept: the loop reads into it
  for (const auto& p : status.at("processes").as_array())
    instances.emplace_back(std::string(p.at("id").as_string()),
                           static_cast<std::uint16_t>(p.at("port").to_number<int>()));
  std::string hub;
  for (const auto& [id, port] : instances)
    ASSERT_TRUE(eventually([&, port = port] {
      auto r = get(port, "/.tether/mesh/status");
      if (r.result_int() != 200) return false;
      auto s = json::parse(r.body());
      hub = std::string(s.at("hub").as_string());
      return s.at("members").as_array().size() == 3;
    }));
  std::vector<std::uint16_t> others;
  for (const auto& [id, port] : instances)
    if (id != hub) others.push_back(port);
  ASSERT_EQ(others.size(), 2u) << "hub " << hub;
  std::vector<int> accepted;
  for (int i = 0; i < 80; ++i) {
    if (i == 30) {
      auto [rc, out] = plan.cli({"kill", hub});
      ASSERT_EQ(rc, 0) << out;
    }
    http::Client c("127.0.0.1", others[0], std::chrono::seconds(30));
    auto r =
        c.post("/send", json::serialize(json::object{{"name", "k"}, {"text", std::to_string(i)}}),
               "application/json");
    if (r.result_int() == 202)
      accepted.push_back(i);
    else
      ASSERT_TRUE(r.result_int() == 429 || r.result_int() == 503) << r.result_int() << r.body();
  }
  ASSERT_GT(accepted.size(), 60u);
  json::array history;
  ASSERT_TRUE(eventually([&] {
    history = json::parse(get(others[1], "/history").body()).as_array();
    std::size_t n = 0;
    for (const auto& m : history)
      if (m.at("name") == "k") ++n;
    return n >= accepted.size();
  })) << history.size()
      << " of " << accepted.size();
  std::vector<int> got;
  for (const auto& m : history)
    if (m.at("name") == "k") got.push_back(std::stoi(std::string(m.at("text").as_string())));
  EXPECT_EQ(got, accepted);
}

TEST(Examples, NodeChatOnThreeInstances) {
  chat_across_three_instances({"node", kExamples + "/node-chat/server.js"});
}

TEST(Examples, PythonChatOnThreeInstances) {
  chat_across_three_instances({"python3", kExamples + "/python-chat/app.py"});
}

}  // namespace
}  // namespace tether::test
