// parse_serve_flags: the one parser of `tether serve`'s flags, shared with
// tether::run_app (issue 13: flag parsing existed twice).
#include "tether/app/serve_flags.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tether/net/config_reader.hpp"

namespace tether::app {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string error_of(std::vector<std::string> args) {
  host::HostConfig c;
  try {
    parse_serve_flags(args, c);
  } catch (const net::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ParseServeFlags, AppliesEveryFlag) {
  host::HostConfig c;
  EXPECT_FALSE(parse_serve_flags({"--listen",
                                  "127.0.0.1",
                                  "--port",
                                  "0",
                                  "--app",
                                  "chat",
                                  "--instance-id",
                                  "i1",
                                  "--session-store",
                                  "memory",
                                  "--disable-affinity",
                                  "--disable-affinity-path",
                                  "/api",
                                  "--mesh",
                                  "--mesh-url",
                                  "http://front",
                                  "--mesh-store",
                                  "sqlite:///tmp/x.db",
                                  "--store-db",
                                  "sqlite:/tmp/s.db"},
                                 c));
  EXPECT_EQ(c.listen, "127.0.0.1");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.app, "chat");
  EXPECT_EQ(c.instance_id, "i1");
  EXPECT_EQ(c.session.store, "memory");
  EXPECT_TRUE(c.disable_affinity);
  EXPECT_EQ(c.disable_affinity_paths, std::vector<std::string>{"/api"});
  EXPECT_TRUE(c.mesh.enabled);
  EXPECT_EQ(c.mesh.public_url, "http://front");
  EXPECT_EQ(c.mesh.store, "sqlite:///tmp/x.db");
  EXPECT_EQ(c.store_db, "sqlite:/tmp/s.db");
}

TEST(ParseServeFlags, HelpAppliesNothing) {
  host::HostConfig c;
  EXPECT_TRUE(parse_serve_flags({"--port", "1", "--help"}, c));
  EXPECT_EQ(c.port, host::HostConfig{}.port);
}

TEST(ParseServeFlags, ErrorsNameTheFlagAndValue) {
  EXPECT_THAT(error_of({"--port", "70000"}), AllOf(HasSubstr("--port"), HasSubstr("70000")));
  EXPECT_THAT(error_of({"--port", "8o"}), AllOf(HasSubstr("--port"), HasSubstr("8o")));
  EXPECT_THAT(error_of({"--disable-affinity-path", "api"}),
              AllOf(HasSubstr("--disable-affinity-path"), HasSubstr("api")));
  EXPECT_THAT(error_of({"--log-level", "loud"}),
              AllOf(HasSubstr("--log-level"), HasSubstr("loud")));
  EXPECT_THAT(error_of({"--store-db", "mysql://x"}), HasSubstr("--store-db"));
  EXPECT_THAT(error_of({"--frobnicate", "1"}), HasSubstr("--frobnicate"));
  EXPECT_THAT(error_of({"--listen"}), HasSubstr("--listen"));
  EXPECT_THAT(error_of({"stray"}), HasSubstr("stray"));
}

}  // namespace
}  // namespace tether::app
