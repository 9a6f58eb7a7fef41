// load_front_config / validate_front_config: [front] from TOML text.
#include "tether/front/affinity.hpp"
#include "tether/front/config_load.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_error.hpp"

namespace tether::front {
namespace {

using net::ConfigError;
using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::HasSubstr;

FrontConfig load(std::string_view toml_text) {
  FrontConfig c;
  load_front_config(toml::parse(toml_text), c);
  return c;
}

using tether::test::config_error;

std::string load_error(std::string_view toml_text) {
  return config_error([&] { load(toml_text); });
}

std::string validate_error(const FrontConfig& c) {
  return config_error([&] { validate_front_config(c); });
}

TEST(LoadFrontConfig, EmptyFileKeepsDefaults) {
  auto c = load("");
  FrontConfig d;
  EXPECT_EQ(c.listen, "0.0.0.0");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.threads, 0u);
  EXPECT_EQ(c.balancing, Balancing::least_requests);
  EXPECT_FALSE(c.access_log);
  EXPECT_FALSE(c.reuse_port);
  EXPECT_TRUE(c.affinity.enabled);
  EXPECT_EQ(c.affinity.cookie, "ARRAffinity");
  EXPECT_EQ(c.affinity.samesite_cookie, "ARRAffinitySameSite");
  EXPECT_EQ(c.affinity.token, TokenMode::instance_id);
  EXPECT_TRUE(c.affinity.set_domain);
  EXPECT_EQ(c.affinity.domain, "");
  EXPECT_EQ(c.timeouts.connect, milliseconds(5'000));
  EXPECT_EQ(c.timeouts.upstream_response, milliseconds(230'000));
  EXPECT_EQ(c.timeouts.client_header, milliseconds(10'000));
  EXPECT_EQ(c.timeouts.client_idle, milliseconds(120'000));
  EXPECT_EQ(c.timeouts.client_body, milliseconds(60'000));
  EXPECT_EQ(c.timeouts.upstream_idle, milliseconds(30'000));
  EXPECT_EQ(c.timeouts.down_period, milliseconds(10'000));
  EXPECT_EQ(c.limits.max_header_bytes, 32u * 1024);
  EXPECT_EQ(c.limits.max_header_count, 100u);
  EXPECT_EQ(c.limits.max_body_bytes, 0u);
  EXPECT_EQ(c.limits.max_connections, 10'000u);
  EXPECT_EQ(c.limits.max_idle_per_instance, 512u);
  EXPECT_EQ(c.limits.connect_attempts, 3u);
  EXPECT_TRUE(c.instances.empty());
  EXPECT_NO_THROW(validate_front_config(c));
}

TEST(LoadFrontConfig, AbsentKeysKeepPresetValues) {
  FrontConfig c;
  c.listen = "127.0.0.1";  // what `tether up` presets
  c.port = 9999;
  load_front_config(toml::parse("[front]\nthreads = 2\n"), c);
  EXPECT_EQ(c.listen, "127.0.0.1");
  EXPECT_EQ(c.port, 9999);
  EXPECT_EQ(c.threads, 2u);
}

TEST(LoadFrontConfig, EverySection) {
  auto c = load(R"(
    [front]
    listen = "127.0.0.1"
    port = 9090
    threads = 4
    balancing = "round-robin"
    access_log = true
    reuse_port = true

    [front.affinity]
    enabled = false
    cookie = "SERVERID"
    samesite_cookie = ""
    token = "sha256"
    set_domain = false
    domain = "example.com"

    [front.timeouts]
    connect = "1s"
    upstream_response = "2m"
    client_header = "500ms"
    client_idle = 30
    client_body = "1.5s"
    upstream_idle = "1h"
    down_period = "0s"

    [front.limits]
    max_header_bytes = 2048
    max_header_count = 10
    max_body_bytes = 1048576
    max_connections = 50
    max_idle_per_instance = 0
    connect_attempts = 1

    [[front.instances]]
    id = "web1"
    address = "127.0.0.1:9001"

    [[front.instances]]
    address = "[::1]:9002"
  )");
  EXPECT_EQ(c.listen, "127.0.0.1");
  EXPECT_EQ(c.port, 9090);
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.balancing, Balancing::round_robin);
  EXPECT_TRUE(c.access_log);
  EXPECT_TRUE(c.reuse_port);
  EXPECT_FALSE(c.affinity.enabled);
  EXPECT_EQ(c.affinity.cookie, "SERVERID");
  EXPECT_EQ(c.affinity.samesite_cookie, "");
  EXPECT_EQ(c.affinity.token, TokenMode::sha256);
  EXPECT_FALSE(c.affinity.set_domain);
  EXPECT_EQ(c.affinity.domain, "example.com");
  EXPECT_EQ(c.timeouts.connect, milliseconds(1'000));
  EXPECT_EQ(c.timeouts.upstream_response, milliseconds(120'000));
  EXPECT_EQ(c.timeouts.client_header, milliseconds(500));
  EXPECT_EQ(c.timeouts.client_idle, milliseconds(30'000));
  EXPECT_EQ(c.timeouts.client_body, milliseconds(1'500));
  EXPECT_EQ(c.timeouts.upstream_idle, milliseconds(3'600'000));
  EXPECT_EQ(c.timeouts.down_period, milliseconds(0));
  EXPECT_EQ(c.limits.max_header_bytes, 2048u);
  EXPECT_EQ(c.limits.max_header_count, 10u);
  EXPECT_EQ(c.limits.max_body_bytes, 1048576u);
  EXPECT_EQ(c.limits.max_connections, 50u);
  EXPECT_EQ(c.limits.max_idle_per_instance, 0u);
  EXPECT_EQ(c.limits.connect_attempts, 1u);
  ASSERT_EQ(c.instances.size(), 2u);
  EXPECT_EQ(c.instances[0].id, "web1");
  EXPECT_EQ(c.instances[0].address, "127.0.0.1:9001");
  EXPECT_EQ(c.instances[1].id, "[::1]:9002") << "id defaults to the address";
  EXPECT_EQ(c.instances[1].address, "[::1]:9002");
  EXPECT_NO_THROW(validate_front_config(c));
}

TEST(LoadFrontConfig, EachBalancingName) {
  EXPECT_EQ(load("[front]\nbalancing = \"least-requests\"").balancing, Balancing::least_requests);
  EXPECT_EQ(load("[front]\nbalancing = \"round-robin\"").balancing, Balancing::round_robin);
  EXPECT_EQ(load("[front]\nbalancing = \"power-of-two\"").balancing, Balancing::power_of_two);
}

TEST(LoadFrontConfig, BalancingRoundTripsThroughToString) {
  for (auto b : {Balancing::least_requests, Balancing::round_robin, Balancing::power_of_two}) {
    auto text = std::string("[front]\nbalancing = \"") + to_string(b) + "\"";
    EXPECT_EQ(load(text).balancing, b);
  }
}

TEST(LoadFrontConfig, ConfiguredInstancesReplacePresetOnes) {
  FrontConfig c;
  c.instances.push_back({"old", "127.0.0.1:1"});
  load_front_config(toml::parse("[[front.instances]]\naddress = \"127.0.0.1:2\"\n"), c);
  ASSERT_EQ(c.instances.size(), 1u);
  EXPECT_EQ(c.instances[0].address, "127.0.0.1:2");

  FrontConfig keep;
  keep.instances.push_back({"old", "127.0.0.1:1"});
  load_front_config(toml::parse("[front]\nport = 1\n"), keep);
  ASSERT_EQ(keep.instances.size(), 1u) << "no [[front.instances]]: preset list kept";
}

TEST(LoadFrontConfig, PortOutOfRangeNamesKeyAndValue) {
  EXPECT_THAT(load_error("[front]\nport = 70000\n"),
              AllOf(HasSubstr("front.port"), HasSubstr("70000")));
  EXPECT_THAT(load_error("[front]\nport = -1\n"), AllOf(HasSubstr("front.port"), HasSubstr("-1")));
}

TEST(LoadFrontConfig, PortMustBeInteger) {
  EXPECT_THAT(load_error("[front]\nport = \"8080\"\n"),
              AllOf(HasSubstr("front.port"), HasSubstr("8080")));
}

TEST(LoadFrontConfig, BadBalancingNamesTheChoices) {
  EXPECT_THAT(load_error("[front]\nbalancing = \"fastest\"\n"),
              AllOf(HasSubstr("front.balancing"), HasSubstr("fastest"), HasSubstr("least-requests"),
                    HasSubstr("round-robin"), HasSubstr("power-of-two")));
}

TEST(LoadFrontConfig, BadTokenModeNamesTheChoices) {
  EXPECT_THAT(load_error("[front.affinity]\ntoken = \"md5\"\n"),
              AllOf(HasSubstr("front.affinity.token"), HasSubstr("md5"), HasSubstr("instance-id"),
                    HasSubstr("sha256")));
}

TEST(LoadFrontConfig, UnknownAffinityKeyRejected) {
  EXPECT_THAT(load_error("[front.affinity]\ncokie = \"X\"\n"),
              AllOf(HasSubstr("front.affinity.cokie"), HasSubstr("unknown")));
}

TEST(LoadFrontConfig, UnknownKeysInEveryTableRejected) {
  EXPECT_THAT(load_error("[front]\nprot = 1\n"), HasSubstr("front.prot"));
  EXPECT_THAT(load_error("[front.timeouts]\nconect = \"1s\"\n"), HasSubstr("front.timeouts.conect"));
  EXPECT_THAT(load_error("[front.limits]\nmax_body = 1\n"), HasSubstr("front.limits.max_body"));
  EXPECT_THAT(load_error("[[front.instances]]\naddress = \"127.0.0.1:1\"\nweight = 2\n"),
              HasSubstr("front.instances[0].weight"));
}

TEST(LoadFrontConfig, BadDurationNamesKeyAndValue) {
  EXPECT_THAT(load_error("[front.timeouts]\nupstream_response = \"230 seconds\"\n"),
              AllOf(HasSubstr("front.timeouts.upstream_response"), HasSubstr("230 seconds")));
}

TEST(LoadFrontConfig, LimitRanges) {
  EXPECT_THAT(load_error("[front.limits]\nmax_header_bytes = 100\n"),
              AllOf(HasSubstr("front.limits.max_header_bytes"), HasSubstr("100")));
  EXPECT_THAT(load_error("[front.limits]\nconnect_attempts = 0\n"),
              HasSubstr("front.limits.connect_attempts"));
  EXPECT_THAT(load_error("[front.limits]\nmax_body_bytes = -5\n"),
              AllOf(HasSubstr("front.limits.max_body_bytes"), HasSubstr("-5")));
  EXPECT_THAT(load_error("[front]\nthreads = 1000\n"), HasSubstr("front.threads"));
}

TEST(LoadFrontConfig, InstanceNeedsAddress) {
  EXPECT_THAT(load_error("[[front.instances]]\nid = \"a\"\n"),
              AllOf(HasSubstr("front.instances[0].address"), HasSubstr("required")));
}

TEST(LoadFrontConfig, WrongTableTypes) {
  EXPECT_THAT(load_error("[front]\naffinity = true\n"), HasSubstr("front.affinity"));
  EXPECT_THAT(load_error("[front]\ninstances = \"127.0.0.1:1\"\n"), HasSubstr("front.instances"));
}

TEST(ValidateFrontConfig, DuplicateInstanceIds) {
  FrontConfig c;
  c.instances = {{"a", "127.0.0.1:1"}, {"b", "127.0.0.1:2"}, {"a", "127.0.0.1:3"}};
  EXPECT_THAT(validate_error(c),
              AllOf(HasSubstr("front.instances[2].id"), HasSubstr("\"a\""), HasSubstr("twice")));
}

TEST(ValidateFrontConfig, SameAddressTwiceIsADuplicateDefaultId) {
  auto c = load(R"(
    [[front.instances]]
    address = "127.0.0.1:1"
    [[front.instances]]
    address = "127.0.0.1:1"
  )");
  EXPECT_THAT(validate_error(c), HasSubstr("front.instances[1].id"));
}

TEST(ValidateFrontConfig, BadCookieNames) {
  for (const char* name : {"", "ARR Affinity", "a;b", "a=b", "a,b", "\"q\"", "caf\xc3\xa9"}) {
    SCOPED_TRACE(name);
    FrontConfig c;
    c.affinity.cookie = name;
    EXPECT_THAT(validate_error(c), HasSubstr("front.affinity.cookie"));
  }
  FrontConfig twin;
  twin.affinity.samesite_cookie = "bad name";
  EXPECT_THAT(validate_error(twin),
              AllOf(HasSubstr("front.affinity.samesite_cookie"), HasSubstr("bad name")));
}

TEST(ValidateFrontConfig, TwinMustDifferFromMain) {
  FrontConfig c;
  c.affinity.cookie = "X";
  c.affinity.samesite_cookie = "X";
  EXPECT_THAT(validate_error(c), HasSubstr("front.affinity.samesite_cookie"));
}

TEST(ValidateFrontConfig, GoodCookieNames) {
  FrontConfig c;
  c.affinity.cookie = "SERVERID";
  c.affinity.samesite_cookie = "";
  EXPECT_NO_THROW(validate_front_config(c));
  c.affinity.cookie = "__Host-arr.affinity_1";
  c.affinity.samesite_cookie = "twin!#$%&'*+-.^_`|~";
  EXPECT_NO_THROW(validate_front_config(c));
}

TEST(ValidateFrontConfig, BadDomain) {
  FrontConfig c;
  c.affinity.domain = "a.com;Path=/";
  EXPECT_THAT(validate_error(c), AllOf(HasSubstr("front.affinity.domain"), HasSubstr("a.com;Path=/")));
}

TEST(ValidateFrontConfig, BadAddresses) {
  for (const char* addr : {"localhost", "127.0.0.1:", "127.0.0.1:99999", "::1:80", "h:port"}) {
    SCOPED_TRACE(addr);
    FrontConfig c;
    c.instances = {{"ok", "127.0.0.1:1"}, {"bad", addr}};
    EXPECT_THAT(validate_error(c), AllOf(HasSubstr("front.instances[1].address"), HasSubstr(addr)));
  }
}

TEST(ValidateFrontConfig, BadInstanceIds) {
  for (const char* id : {"", "a b", "a;b", "a,b", "\"a\"", "a\\b"}) {
    SCOPED_TRACE(id);
    FrontConfig c;
    c.instances = {{id, "127.0.0.1:1"}};
    EXPECT_THAT(validate_error(c), HasSubstr("front.instances[0].id"));
  }
}

}  // namespace
}  // namespace tether::front

namespace tether::front {
namespace {

TEST(LoadFrontConfig, AffinityMaxIdleAndMaxLife) {
  // Scenario (issue 15): the timed-pin options, off by default, whole
  // seconds; a sub-second value is named, not silently rounded to "off".
  EXPECT_EQ(load("").affinity.max_idle.count(), 0);
  auto c = load("[front.affinity]\nmax_idle = \"30m\"\nmax_life = \"8h\"\n");
  EXPECT_EQ(c.affinity.max_idle, std::chrono::minutes(30));
  EXPECT_EQ(c.affinity.max_life, std::chrono::hours(8));
  EXPECT_THAT(load_error("[front.affinity]\nmax_idle = \"1500ms\"\n"),
              AllOf(HasSubstr("front.affinity.max_idle"), HasSubstr("1500")));
}

TEST(LoadFrontConfig, Http2) {
  // Scenario (issue 15): HTTP/2 is on by default (ALPN and h2c) with its
  // limits; each can be set, and a bad value names its key.
  auto d = load("");
  EXPECT_TRUE(d.http2.enabled);
  EXPECT_TRUE(d.http2.h2c);
  EXPECT_EQ(d.http2.max_concurrent_streams, 100u);
  auto c = load(
      "[front.http2]\nenabled = false\nh2c = false\nmax_concurrent_streams = 20\n"
      "reset_burst = 50\n");
  EXPECT_FALSE(c.http2.enabled);
  EXPECT_FALSE(c.http2.h2c);
  EXPECT_EQ(c.http2.max_concurrent_streams, 20u);
  EXPECT_EQ(c.http2.reset_burst, 50u);
  EXPECT_THAT(load_error("[front.http2]\nmax_concurrent_streams = 0\n"),
              AllOf(HasSubstr("front.http2.max_concurrent_streams"), HasSubstr("0")));
  EXPECT_THAT(load_error("[front.http2]\ninitial_window = 100\n"),
              HasSubstr("front.http2.initial_window"));
  EXPECT_THAT(load_error("[front.http2]\nmax_streams = 5\n"), HasSubstr("max_streams"));
}

TEST(LoadFrontConfig, AffinityRebalancing) {
  // Scenario (issue 15): rebalancing is off by default (ARR's behaviour);
  // on, it makes cookies timed; a bad value names its key.
  auto d = load("");
  EXPECT_EQ(d.affinity.rebalance_idle.count(), 0);
  EXPECT_FALSE(d.affinity.sessions_portable);
  EXPECT_FALSE(Affinity(d.affinity).rebalancing());
  EXPECT_FALSE(Affinity(d.affinity).timed());
  auto c = load("[front.affinity]\nrebalance_idle = \"10m\"\nsessions_portable = true\n");
  EXPECT_EQ(c.affinity.rebalance_idle, std::chrono::minutes(10));
  EXPECT_TRUE(c.affinity.sessions_portable);
  EXPECT_TRUE(Affinity(c.affinity).rebalancing());
  EXPECT_TRUE(Affinity(c.affinity).timed());
  EXPECT_THAT(load_error("[front.affinity]\nrebalance_idle = \"250ms\"\n"),
              AllOf(HasSubstr("front.affinity.rebalance_idle"), HasSubstr("250")));
  EXPECT_THAT(load_error("[front.affinity]\nsessions_portable = \"yes\"\n"),
              HasSubstr("front.affinity.sessions_portable"));
}

}  // namespace
}  // namespace tether::front
