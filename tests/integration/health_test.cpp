// Active health checks through `tether front`: new instances are checked
// before traffic, sick ones leave rotation and their pinned users re-pin,
// redirects fail, and never more than the configured share is removed.
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

// Makes `inst`'s /healthz answer `code` (talking to the instance directly).
void set_health(const InstanceProc& inst, int code) {
  http::Client c("127.0.0.1", inst.port);
  ASSERT_EQ(c.post("/healthz/status?code=" + std::to_string(code)).result_int(), 200);
}

std::string health_config(int max_unhealthy_percent = 50) {
  return write_temp_file(
      "health-" + std::to_string(max_unhealthy_percent) + ".toml",
      "[front.health]\npath = \"/healthz\"\ninterval = \"50ms\"\ntimeout = \"1s\"\n"
      "fall = 2\nrise = 2\nmax_unhealthy_percent = " +
          std::to_string(max_unhealthy_percent) + "\n");
}

// Instances seen over `n` cookie-less requests.
std::set<std::string> spread(std::uint16_t port, int n) {
  std::set<std::string> seen;
  for (int i = 0; i < n; ++i) {
    auto res = get(port, "/");
    if (res.result_int() == 200) seen.insert(std::string(res["X-Instance-Id"]));
  }
  return seen;
}

TEST(Health, NewInstanceThatNeverPassesGetsNoTraffic) {
  // Scenario: instance B fails its checks from the start; A is healthy.
  // Every request lands on A; B never gets a user.
  auto a = start_instance(), b = start_instance();
  set_health(b, 500);
  auto front = start_front_for({&a, &b}, {"--config", health_config()});
  ASSERT_TRUE(eventually([&] { return get(front.port, "/").result_int() == 200; }));
  EXPECT_EQ(spread(front.port, 20), std::set<std::string>{a.id});
}

TEST(Health, SickInstanceLeavesRotationAndPinnedUsersRepinThenItReturns) {
  // Scenario: a client is pinned to A; A starts failing health checks; the
  // client is re-pinned elsewhere with new cookies; when A recovers it takes
  // new users again.
  auto a = start_instance(), b = start_instance(), c = start_instance();
  auto front = start_front_for({&a, &b, &c}, {"--config", health_config()});
  ASSERT_TRUE(eventually([&] { return spread(front.port, 12).size() == 3; }));
  set_health(a, 503);
  http::Response res;
  ASSERT_TRUE(eventually([&] {
    res = get(front.port, "/", "ARRAffinity=" + a.id);
    return res.result_int() == 200 && res["X-Instance-Id"] != a.id;
  }));
  EXPECT_EQ(set_cookie_value(res, "ARRAffinity"), std::string(res["X-Instance-Id"]));
  EXPECT_EQ(spread(front.port, 12).count(a.id), 0u);
  set_health(a, 200);
  EXPECT_TRUE(eventually([&] { return spread(front.port, 9).count(a.id) == 1; }));
}

TEST(Health, RedirectIsNotFollowedAndCountsAsFailure) {
  // Scenario: B's health path answers 302; it is taken out of rotation.
  auto a = start_instance(), b = start_instance();
  auto front = start_front_for({&a, &b}, {"--config", health_config()});
  ASSERT_TRUE(eventually([&] { return spread(front.port, 8).size() == 2; }));
  set_health(b, 302);
  EXPECT_TRUE(eventually([&] { return spread(front.port, 8) == std::set<std::string>{a.id}; }));
}

TEST(Health, NoInstanceIsRemovedWhenAllFail) {
  // Scenario: both instances fail their checks: none is removed, traffic
  // still reaches both (as App Service).
  auto a = start_instance(), b = start_instance();
  set_health(a, 500);
  set_health(b, 500);
  auto front = start_front_for({&a, &b}, {"--config", health_config()});
  EXPECT_TRUE(eventually([&] { return spread(front.port, 8).size() == 2; }));
}

TEST(Health, AtMostTheConfiguredShareIsRemoved) {
  // Scenario: 3 of 4 instances fail with max_unhealthy_percent = 50: only 2
  // are removed, so traffic reaches the healthy one and one failing one.
  auto a = start_instance(), b = start_instance(), c = start_instance(), d = start_instance();
  auto front = start_front_for({&a, &b, &c, &d}, {"--config", health_config(50)});
  ASSERT_TRUE(eventually([&] { return spread(front.port, 16).size() == 4; }));
  set_health(b, 500);
  set_health(c, 500);
  set_health(d, 500);
  std::set<std::string> seen;
  ASSERT_TRUE(eventually([&] {
    seen = spread(front.port, 16);
    return seen.size() == 2;
  }));
  EXPECT_EQ(seen.count(a.id), 1u);
  // It stays that way.
  EXPECT_EQ(spread(front.port, 16).size(), 2u);
}

}  // namespace
}  // namespace tether::test
