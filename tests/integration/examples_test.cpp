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

TEST(Examples, NodeChatOnThreeInstances) {
  chat_across_three_instances({"node", kExamples + "/node-chat/server.js"});
}

TEST(Examples, PythonChatOnThreeInstances) {
  chat_across_three_instances({"python3", kExamples + "/python-chat/app.py"});
}

}  // namespace
}  // namespace tether::test
