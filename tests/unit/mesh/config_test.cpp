// [mesh] configuration: defaults, the environment, and errors that name the
// key and the value.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "config_error.hpp"
#include "tether/mesh/config.hpp"

namespace tether::mesh {
namespace {

using test::config_error;

MeshConfig load(const std::string& toml) {
  MeshConfig c;
  load_mesh_config(toml::parse(toml), c);
  return c;
}

TEST(MeshConfig, DefaultsMatchTheDocs) {
  auto c = load("");
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.backplane, "mesh");
  EXPECT_EQ(c.liveness, Millis{1000});
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.ack_delay, Millis{5});
  EXPECT_EQ(load("[mesh]\nack_delay = \"0ms\"").ack_delay, Millis{0});
}

TEST(MeshConfig, BadValuesNameTheKey) {
  EXPECT_NE(config_error([] { load("[mesh]\nbackplane = \"kafka\""); }).find("mesh.backplane"),
            std::string::npos);
  EXPECT_NE(config_error([] { load("[mesh]\nliveness = \"10ms\""); }).find("mesh.liveness"),
            std::string::npos);
  EXPECT_NE(config_error([] { load("[mesh]\nwindow = 0"); }).find("mesh.window"),
            std::string::npos);
  auto ack = config_error([] { load("[mesh]\nack_delay = \"2s\""); });
  EXPECT_NE(ack.find("mesh.ack_delay"), std::string::npos) << ack;
  EXPECT_NE(ack.find("2000ms"), std::string::npos) << ack;
  EXPECT_NE(config_error([] { load("[mesh]\nwindw = 5"); }).find("mesh.windw"),
            std::string::npos);
}

TEST(MeshConfig, AnEnabledMeshNeedsUrlKeyAndStore) {
  MeshConfig c;
  c.enabled = true;
  c.public_url = "ftp://x";
  EXPECT_NE(config_error([&] { validate_mesh_config(c); }).find("mesh.public_url"),
            std::string::npos);
  c.public_url = "http://127.0.0.1:8080";
  c.key = "short";
  EXPECT_NE(config_error([&] { validate_mesh_config(c); }).find("mesh.key"), std::string::npos);
  c.key = "sixteen-chars-ok";
  EXPECT_NE(config_error([&] { validate_mesh_config(c); }).find("mesh.store"),
            std::string::npos);
  c.store = "sqlite:///tmp/x.db";
  EXPECT_NO_THROW(validate_mesh_config(c));
  c.backplane = "redis";
  EXPECT_NE(config_error([&] { validate_mesh_config(c); }).find("mesh.redis"),
            std::string::npos);
}

TEST(MeshConfig, EnvironmentGivesKeyAndAppServiceUrl) {
  ::setenv("TETHER_MESH_KEY", "from-the-environment", 1);
  ::setenv("WEBSITE_HOSTNAME", "myapp.azurewebsites.net", 1);
  MeshConfig c;
  apply_mesh_environment(c);
  ::unsetenv("TETHER_MESH_KEY");
  ::unsetenv("WEBSITE_HOSTNAME");
  EXPECT_EQ(c.key, "from-the-environment");
  EXPECT_EQ(c.public_url, "https://myapp.azurewebsites.net");
}

}  // namespace
}  // namespace tether::mesh
