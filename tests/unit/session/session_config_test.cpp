// Store URLs and [serve.session]: every accepted form, and errors that name
// the key and the value.
#include "tether/session/session_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_error.hpp"
#include "tether/host/host_config.hpp"
#include "tether/session/session_store.hpp"

namespace tether::session {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using Kind = StoreUrl::Kind;

TEST(StoreUrl, Memory) {
  EXPECT_EQ(parse_store_url("memory").kind, Kind::memory);
  EXPECT_EQ(parse_store_url("memory:").kind, Kind::memory);
}

TEST(StoreUrl, RedisTcp) {
  auto u = parse_store_url("redis://127.0.0.1");
  EXPECT_EQ(u.kind, Kind::redis);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  u = parse_store_url("redis://:s3cret@cache.local:6380/2");
  EXPECT_EQ(u.host, "cache.local");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 2);
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_TRUE(u.path.empty());
}

TEST(StoreUrl, RedisUnixSocket) {
  for (const char* text : {"/run/redis/redis.sock", "unix:/run/redis/redis.sock",
                           "redis+unix:///run/redis/redis.sock"}) {
    auto u = parse_store_url(text);
    EXPECT_EQ(u.kind, Kind::redis) << text;
    EXPECT_EQ(u.path, "/run/redis/redis.sock") << text;
  }
  EXPECT_EQ(parse_store_url("redis+unix:///tmp/r.sock?db=3").db, 3);
}

TEST(StoreUrl, Sqlite) {
  EXPECT_EQ(parse_store_url("sqlite:///var/tether/sessions.db").path, "/var/tether/sessions.db");
  auto u = parse_store_url("sqlite:sessions.db");
  EXPECT_EQ(u.kind, Kind::sqlite);
  EXPECT_EQ(u.path, "sessions.db");
}

TEST(StoreUrl, Postgres) {
  auto u = parse_store_url("postgres://tether@127.0.0.1:5432/tether");
  EXPECT_EQ(u.kind, Kind::postgres);
  EXPECT_EQ(u.conninfo, "postgres://tether@127.0.0.1:5432/tether");
  EXPECT_EQ(parse_store_url("postgresql:///db?host=/tmp").kind, Kind::postgres);
}

TEST(StoreUrl, Rejects) {
  for (const char* text : {"", "redis", "mysql://x", "redis://", "redis://h:0", "redis://h:99999",
                           "redis://h/x", "sqlite:", "unix:relative.sock", "relative.sock"})
    EXPECT_THROW(parse_store_url(text), std::invalid_argument) << text;
}

SessionConfig load(std::string_view text) {
  auto root = toml::parse(text);
  net::ConfigReader serve(root.get_as<toml::table>("serve"), "serve");
  auto r = serve.table("session");
  SessionConfig c;
  load_session_config(r, c);
  return c;
}

TEST(SessionConfigLoad, Defaults) {
  auto c = load("");
  EXPECT_EQ(c.store, "memory");
  EXPECT_EQ(c.cookie, "TetherSession");
  EXPECT_EQ(c.idle_timeout, std::chrono::minutes(20));
  EXPECT_EQ(c.store_timeout, std::chrono::seconds(1));
}

TEST(SessionConfigLoad, Values) {
  auto c = load(R"([serve.session]
store = "redis://127.0.0.1:6379"
cookie = ".AspNet.Session"
idle_timeout = "5m"
store_timeout = "250ms")");
  EXPECT_EQ(c.store, "redis://127.0.0.1:6379");
  EXPECT_EQ(c.cookie, ".AspNet.Session");
  EXPECT_EQ(c.idle_timeout, std::chrono::minutes(5));
  EXPECT_EQ(c.store_timeout, std::chrono::milliseconds(250));
}

TEST(SessionConfigLoad, ErrorsNameKeyAndValue) {
  auto error = [](std::string_view text) { return test::config_error([&] { load(text); }); };
  EXPECT_THAT(error("[serve.session]\nstore = \"mysql://db\""),
              AllOf(HasSubstr("serve.session.store"), HasSubstr("mysql://db")));
  EXPECT_THAT(error("[serve.session]\ncookie = \"a b\""),
              AllOf(HasSubstr("serve.session.cookie"), HasSubstr("a b")));
  EXPECT_THAT(error("[serve.session]\nidle_timeout = \"0s\""),
              HasSubstr("serve.session.idle_timeout"));
  EXPECT_THAT(error("[serve.session]\nstore_timeout = \"soon\""),
              AllOf(HasSubstr("serve.session.store_timeout"), HasSubstr("soon")));
  EXPECT_THAT(error("[serve.session]\nstroe = \"memory\""), HasSubstr("serve.session.stroe"));
}

TEST(SessionConfigLoad, ThroughServe) {
  host::HostConfig c;
  host::load_host_config(toml::parse("[serve]\nstore_db = \"sqlite:/tmp/s.db\"\n"
                                     "[serve.session]\nstore = \"/tmp/redis.sock\"\n"),
                         c);
  EXPECT_EQ(c.session.store, "/tmp/redis.sock");
  EXPECT_EQ(c.store_db, "sqlite:/tmp/s.db");
  auto msg = test::config_error(
      [] { host::HostConfig d; host::load_host_config(toml::parse("[serve]\nstore_db = \"x.db\""), d); });
  EXPECT_THAT(msg, AllOf(HasSubstr("serve.store_db"), HasSubstr("x.db")));
}

TEST(CheckStoreUrl, NamesTheFlag) {
  auto msg = test::config_error([] { check_store_url("--session-store", "nope"); });
  EXPECT_THAT(msg, AllOf(HasSubstr("--session-store"), HasSubstr("nope")));
}

}  // namespace
}  // namespace tether::session
