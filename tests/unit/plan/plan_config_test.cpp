// load_plan_config: [up] of tether.toml.
#include "tether/plan/plan_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_error.hpp"

#include "tether/net/config_reader.hpp"

namespace tether::plan {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::HasSubstr;

PlanConfig load(std::string_view text) {
  PlanConfig c;
  load_plan_config(toml::parse(text), c);
  return c;
}

std::string load_error(std::string_view text) {
  return test::config_error([&] { load(text); });
}

TEST(LoadPlanConfig, Defaults) {
  auto c = load("");
  EXPECT_EQ(c.instances, 3u);
  EXPECT_EQ(c.app, "signalr-chat");
  EXPECT_EQ(c.admin_listen, "127.0.0.1");
  EXPECT_EQ(c.admin_port, 0);
  EXPECT_EQ(c.state_dir, "");
  EXPECT_EQ(c.stop_grace, milliseconds(5'000));
  EXPECT_EQ(c.start_timeout, milliseconds(30'000));
}

TEST(LoadPlanConfig, EveryKey) {
  auto c = load(R"(
    [up]
    instances = 5
    app = "whoami"
    admin_listen = "::1"
    admin_port = 7070
    state_dir = "/tmp/plans"
    stop_grace = "250ms"
    start_timeout = 10
  )");
  EXPECT_EQ(c.instances, 5u);
  EXPECT_EQ(c.admin_listen, "::1");
  EXPECT_EQ(c.admin_port, 7070);
  EXPECT_EQ(c.state_dir, "/tmp/plans");
  EXPECT_EQ(c.stop_grace, milliseconds(250));
  EXPECT_EQ(c.start_timeout, milliseconds(10'000));
}

TEST(LoadPlanConfig, ZeroInstancesAllowed) { EXPECT_EQ(load("[up]\ninstances = 0\n").instances, 0u); }

TEST(LoadPlanConfig, ErrorsNameKeyAndValue) {
  EXPECT_THAT(load_error("[up]\ninstances = 300\n"),
              AllOf(HasSubstr("up.instances"), HasSubstr("300")));
  EXPECT_THAT(load_error("[up]\nadmin_port = 65536\n"),
              AllOf(HasSubstr("up.admin_port"), HasSubstr("65536")));
  EXPECT_THAT(load_error("[up]\nstop_grace = \"-1s\"\n"),
              AllOf(HasSubstr("up.stop_grace"), HasSubstr("-1s")));
}

TEST(LoadPlanConfig, UnknownKeyRejected) {
  EXPECT_THAT(load_error("[up]\ninstance = 3\n"), AllOf(HasSubstr("up.instance"), HasSubstr("unknown")));
}

TEST(LoadPlanConfig, FrontAndServeSectionsAreNotItsBusiness) {
  auto c = load("[front]\nport = 1\n[serve]\nport = 2\n");
  EXPECT_EQ(c.instances, 3u);
}

TEST(ResolveStateDir, ConfiguredWins) { EXPECT_EQ(resolve_state_dir("/x/y"), "/x/y"); }

}  // namespace
}  // namespace tether::plan
