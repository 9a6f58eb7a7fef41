// load_host_config: [serve] of tether.toml.
#include "tether/host/host_config.hpp"

#include "tether/app/serve_flags.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_error.hpp"

#include "tether/net/config_reader.hpp"

namespace tether::host {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

HostConfig load(std::string_view text) {
  HostConfig c;
  load_host_config(toml::parse(text), c);
  return c;
}

std::string load_error(std::string_view text) {
  return test::config_error([&] { load(text); });
}

TEST(LoadHostConfig, Defaults) {
  auto c = load("");
  EXPECT_EQ(c.listen, "0.0.0.0");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.instance_id, "");
  EXPECT_EQ(c.app, "whoami");
  EXPECT_FALSE(c.disable_affinity);
  EXPECT_TRUE(c.disable_affinity_paths.empty());
  EXPECT_EQ(c.server.max_header_bytes, 32u * 1024);
  EXPECT_EQ(c.server.max_body_bytes, 64ull * 1024 * 1024);
  EXPECT_EQ(c.server.header_timeout, milliseconds(10'000));
  EXPECT_EQ(c.server.idle_timeout, milliseconds(75'000));
}

TEST(LoadHostConfig, EveryKey) {
  auto c = load(R"(
    [serve]
    listen = "127.0.0.1"
    port = 0
    instance_id = "abc123"
    app = "whoami"
    disable_affinity = true
    disable_affinity_paths = ["/api", "/static/"]
    max_header_bytes = 4096
    max_body_bytes = 0
    header_timeout = "2s"
    idle_timeout = 5
  )");
  EXPECT_EQ(c.listen, "127.0.0.1");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.instance_id, "abc123");
  EXPECT_EQ(c.app, "whoami");
  EXPECT_TRUE(c.disable_affinity);
  EXPECT_THAT(c.disable_affinity_paths, ElementsAre("/api", "/static/"));
  EXPECT_EQ(c.server.max_header_bytes, 4096u);
  EXPECT_EQ(c.server.max_body_bytes, 0u);
  EXPECT_EQ(c.server.header_timeout, milliseconds(2'000));
  EXPECT_EQ(c.server.idle_timeout, milliseconds(5'000));
}

TEST(LoadHostConfig, OtherSectionsIgnored) {
  auto c = load("[front]\nport = 1\n[up]\ninstances = 2\n");
  EXPECT_EQ(c.port, 8080);
}

TEST(LoadHostConfig, PathsMustStartWithSlash) {
  EXPECT_THAT(load_error("[serve]\ndisable_affinity_paths = [\"/ok\", \"api\"]\n"),
              AllOf(HasSubstr("serve.disable_affinity_paths"), HasSubstr("api")));
  EXPECT_THAT(load_error("[serve]\ndisable_affinity_paths = [\"\"]\n"),
              HasSubstr("serve.disable_affinity_paths"));
}

TEST(LoadHostConfig, PathsMustBeStrings) {
  EXPECT_THAT(load_error("[serve]\ndisable_affinity_paths = \"/api\"\n"),
              HasSubstr("serve.disable_affinity_paths"));
  EXPECT_THAT(load_error("[serve]\ndisable_affinity_paths = [1]\n"),
              HasSubstr("serve.disable_affinity_paths"));
}

TEST(CheckAppName, UnknownAppNamesKeyValueAndChoices) {
  // [serve] app is checked against the binary's registry of built-in apps
  // (apps/registry.cpp) by `tether serve`; the library only reads it.
  try {
    app::check_app_name("serve.app", "echo", {"whoami", "chat"});
    ADD_FAILURE() << "no error";
  } catch (const net::ConfigError& e) {
    EXPECT_THAT(e.what(),
                AllOf(HasSubstr("serve.app"), HasSubstr("echo"), HasSubstr("whoami, chat")));
  }
  EXPECT_NO_THROW(app::check_app_name("serve.app", "chat", {"whoami", "chat"}));
}

TEST(LoadHostConfig, UnknownKeyRejected) {
  EXPECT_THAT(load_error("[serve]\nbody_timeout = \"5s\"\n"), HasSubstr("serve.body_timeout"));
}

TEST(LoadHostConfig, RangesNameKeyAndValue) {
  EXPECT_THAT(load_error("[serve]\nport = 65536\n"),
              AllOf(HasSubstr("serve.port"), HasSubstr("65536")));
  EXPECT_THAT(load_error("[serve]\nmax_header_bytes = 10\n"),
              AllOf(HasSubstr("serve.max_header_bytes"), HasSubstr("10")));
  EXPECT_THAT(load_error("[serve]\nheader_timeout = \"soon\"\n"),
              AllOf(HasSubstr("serve.header_timeout"), HasSubstr("soon")));
}

TEST(EnsureInstanceId, FillsOnlyWhenMissing) {
  HostConfig c;
  ensure_instance_id(c);
  EXPECT_EQ(c.instance_id.size(), 64u);
  auto first = c.instance_id;
  ensure_instance_id(c);
  EXPECT_EQ(c.instance_id, first);
}

}  // namespace
}  // namespace tether::host

namespace tether::host {
namespace {

TEST(StatusRanges, AnyAndListsOfRanges) {
  auto any = parse_status_ranges("any");
  ASSERT_TRUE(any);
  EXPECT_EQ(*any, (std::vector<std::pair<unsigned, unsigned>>{{100, 599}}));
  auto list = parse_status_ranges("200-299,404");
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, (std::vector<std::pair<unsigned, unsigned>>{{200, 299}, {404, 404}}));
  for (const char* bad : {"", "2xx", "299-200", "99", "600", "200,", "200-", "-300"})
    EXPECT_FALSE(parse_status_ranges(bad)) << bad;
}

}  // namespace
}  // namespace tether::host
