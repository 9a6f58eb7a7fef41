// config/tether.example.toml: the shipped example must load in every loader
// and show the documented defaults.
#include <gtest/gtest.h>

#include "tether/front/config_load.hpp"
#include "tether/host/host_config.hpp"
#include "tether/net/config_reader.hpp"
#include "tether/plan/plan_config.hpp"

namespace tether {
namespace {

using std::chrono::milliseconds;

class ExampleConfig : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_THROW(root_ = net::parse_config_file(TETHER_EXAMPLE_CONFIG)); }
  toml::table root_;
};

TEST_F(ExampleConfig, FrontLoadsValidatesAndMatchesDefaults) {
  front::FrontConfig c;
  ASSERT_NO_THROW(front::load_front_config(root_, c));
  ASSERT_NO_THROW(front::validate_front_config(c));
  const front::FrontConfig d;
  EXPECT_EQ(c.listen, d.listen);
  EXPECT_EQ(c.port, d.port);
  EXPECT_EQ(c.threads, d.threads);
  EXPECT_EQ(c.balancing, d.balancing);
  EXPECT_EQ(c.access_log, d.access_log);
  EXPECT_EQ(c.reuse_port, d.reuse_port);
  EXPECT_EQ(c.affinity.enabled, d.affinity.enabled);
  EXPECT_EQ(c.affinity.cookie, "ARRAffinity");
  EXPECT_EQ(c.affinity.samesite_cookie, "ARRAffinitySameSite");
  EXPECT_EQ(c.affinity.token, d.affinity.token);
  EXPECT_EQ(c.affinity.set_domain, d.affinity.set_domain);
  EXPECT_EQ(c.affinity.domain, d.affinity.domain);
  EXPECT_EQ(c.affinity.max_idle, d.affinity.max_idle);
  EXPECT_EQ(c.affinity.max_life, d.affinity.max_life);
  EXPECT_EQ(c.affinity.rebalance_idle, d.affinity.rebalance_idle);
  EXPECT_EQ(c.http2.enabled, d.http2.enabled);
  EXPECT_EQ(c.http2.h2c, d.http2.h2c);
  EXPECT_EQ(c.http2.max_concurrent_streams, d.http2.max_concurrent_streams);
  EXPECT_EQ(c.http2.initial_window, d.http2.initial_window);
  EXPECT_EQ(c.http2.connection_window, d.http2.connection_window);
  EXPECT_EQ(c.http2.max_control_frames, d.http2.max_control_frames);
  EXPECT_EQ(c.http2.max_queued_acks, d.http2.max_queued_acks);
  EXPECT_EQ(c.http2.reset_burst, d.http2.reset_burst);
  EXPECT_EQ(c.http2.reset_rate, d.http2.reset_rate);
  EXPECT_EQ(c.http2.max_continuations, d.http2.max_continuations);
  EXPECT_EQ(c.affinity.sessions_portable, d.affinity.sessions_portable);
  EXPECT_EQ(c.timeouts.connect, d.timeouts.connect);
  EXPECT_EQ(c.timeouts.upstream_response, milliseconds(230'000));
  EXPECT_EQ(c.timeouts.client_header, d.timeouts.client_header);
  EXPECT_EQ(c.timeouts.client_idle, d.timeouts.client_idle);
  EXPECT_EQ(c.timeouts.client_body, d.timeouts.client_body);
  EXPECT_EQ(c.timeouts.upstream_idle, d.timeouts.upstream_idle);
  EXPECT_EQ(c.timeouts.down_period, d.timeouts.down_period);
  EXPECT_EQ(c.limits.max_header_bytes, d.limits.max_header_bytes);
  EXPECT_EQ(c.limits.max_header_count, d.limits.max_header_count);
  EXPECT_EQ(c.limits.max_body_bytes, d.limits.max_body_bytes);
  EXPECT_EQ(c.limits.max_connections, d.limits.max_connections);
  EXPECT_EQ(c.limits.max_idle_per_instance, d.limits.max_idle_per_instance);
  EXPECT_EQ(c.limits.connect_attempts, d.limits.connect_attempts);
  EXPECT_TRUE(c.instances.empty()) << "the [[front.instances]] example stays commented out";
}

TEST_F(ExampleConfig, FrontSectionsArePresent) {
  // The example documents each table, not just relies on absent-table defaults.
  for (const char* path : {"front", "front.affinity", "front.timeouts", "front.limits", "up",
                           "serve"})
    EXPECT_NE(root_.at_path(path).as_table(), nullptr) << path;
  EXPECT_NE(root_.at_path("front.affinity.cookie").as_string(), nullptr);
  EXPECT_NE(root_.at_path("front.timeouts.upstream_response").as_string(), nullptr)
      << "durations are written as strings";
}

TEST_F(ExampleConfig, UpPresetListenSurvives) {
  // `tether up` presets listen = 127.0.0.1; the example must not override it.
  front::FrontConfig c;
  c.listen = "127.0.0.1";
  front::load_front_config(root_, c);
  EXPECT_EQ(c.listen, "127.0.0.1");
}

TEST_F(ExampleConfig, HostLoadsAndMatchesDefaults) {
  host::HostConfig c;
  ASSERT_NO_THROW(host::load_host_config(root_, c));
  const host::HostConfig d;
  EXPECT_EQ(c.listen, d.listen);
  EXPECT_EQ(c.port, d.port);
  EXPECT_EQ(c.instance_id, "");
  EXPECT_EQ(c.app, "whoami");
  EXPECT_EQ(c.disable_affinity, d.disable_affinity);
  EXPECT_TRUE(c.disable_affinity_paths.empty());
  EXPECT_EQ(c.server.max_header_bytes, d.server.max_header_bytes);
  EXPECT_EQ(c.server.max_body_bytes, d.server.max_body_bytes);
  EXPECT_EQ(c.server.header_timeout, d.server.header_timeout);
  EXPECT_EQ(c.server.idle_timeout, d.server.idle_timeout);
  EXPECT_TRUE(root_.at_path("serve.idle_timeout").is_string());
  EXPECT_EQ(c.store_db, d.store_db);
  EXPECT_EQ(c.session.store, d.session.store);
  EXPECT_EQ(c.session.cookie, d.session.cookie);
  EXPECT_EQ(c.session.idle_timeout, d.session.idle_timeout);
  EXPECT_EQ(c.session.store_timeout, d.session.store_timeout);
}

TEST_F(ExampleConfig, PlanLoadsAndMatchesDefaults) {
  plan::PlanConfig c;
  ASSERT_NO_THROW(plan::load_plan_config(root_, c));
  const plan::PlanConfig d;
  EXPECT_EQ(c.instances, 3u);
  EXPECT_EQ(c.app, d.app);
  EXPECT_EQ(c.admin_listen, "127.0.0.1");
  EXPECT_EQ(c.admin_port, d.admin_port);
  EXPECT_EQ(c.state_dir, d.state_dir);
  EXPECT_EQ(c.stop_grace, d.stop_grace);
  EXPECT_EQ(c.start_timeout, d.start_timeout);
}

TEST_F(ExampleConfig, EveryReadKeyIsWrittenOut) {
  // Keys each loader reads; the example sets all of them (front.listen is
  // deliberately commented out, see the file).
  // A table, several keys a line:
  // clang-format off
  const char* keys[] = {
      "up.instances", "up.app", "up.admin_listen", "up.admin_port", "up.state_dir",
      "up.stop_grace", "up.drain_grace", "up.start_timeout",
      "front.port", "front.threads", "front.balancing", "front.access_log", "front.reuse_port",
      "front.affinity.enabled", "front.affinity.cookie", "front.affinity.samesite_cookie",
      "front.affinity.token", "front.affinity.set_domain", "front.affinity.domain",
      "front.affinity.max_idle", "front.affinity.max_life", "front.affinity.rebalance_idle",
      "front.affinity.sessions_portable",
      "front.timeouts.connect", "front.timeouts.upstream_response",
      "front.timeouts.client_header", "front.timeouts.client_idle",
      "front.timeouts.client_body", "front.timeouts.upstream_idle",
      "front.timeouts.down_period", "front.timeouts.tunnel_idle",
      "front.health.path", "front.health.interval", "front.health.timeout", "front.health.fall",
      "front.health.rise", "front.health.max_unhealthy_percent",
      "front.tls.cert", "front.tls.key", "front.tls.port",
      "front.http2.enabled", "front.http2.h2c", "front.http2.max_concurrent_streams",
      "front.http2.initial_window", "front.http2.connection_window",
      "front.http2.max_control_frames", "front.http2.max_queued_acks",
      "front.http2.reset_burst", "front.http2.reset_rate", "front.http2.max_continuations",
      "front.admin.enabled", "front.admin.listen", "front.admin.port", "front.admin.token",
      "front.limits.max_header_bytes", "front.limits.max_header_count",
      "front.limits.max_body_bytes", "front.limits.max_connections",
      "front.limits.max_idle_per_instance", "front.limits.connect_attempts",
      "serve.listen", "serve.port", "serve.instance_id", "serve.app", "serve.disable_affinity",
      "serve.disable_affinity_paths", "serve.max_header_bytes", "serve.max_body_bytes",
      "serve.header_timeout", "serve.idle_timeout", "serve.store_db", "serve.session.store",
      "serve.session.cookie", "serve.session.idle_timeout", "serve.session.store_timeout",
      "mesh.enabled", "mesh.backplane", "mesh.public_url", "mesh.store", "mesh.redis", "mesh.key",
      "mesh.name", "mesh.liveness", "mesh.store_check", "mesh.rejoin_grace",
      "mesh.publish_timeout", "mesh.request_timeout", "mesh.window", "mesh.window_bytes",
      "mesh.member_queue", "mesh.max_message_bytes", "mesh.insecure_tls"};
  // clang-format on
  for (const char* k : keys) EXPECT_TRUE(root_.at_path(k)) << k;
}

}  // namespace
}  // namespace tether
