#pragma once
// Configuration of one app instance ([serve] in tether.toml, flags, and the
// App Service environment: PORT, WEBSITE_INSTANCE_ID).
#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "tether/http/server.hpp"
#include "tether/mesh/config.hpp"
#include "tether/session/session_config.hpp"

namespace tether::host {

struct HostConfig {
  std::string listen = "0.0.0.0";
  std::uint16_t port = 8080;  // PORT overrides; 0 = the OS picks (reported on stdout)
  std::string instance_id;    // WEBSITE_INSTANCE_ID; empty = a random 64-hex id
  std::string app = "whoami";
  // Arr-Disable-Session-Affinity: True on every response, or on paths starting
  // with one of these prefixes (seeds 002/003).
  bool disable_affinity = false;
  std::vector<std::string> disable_affinity_paths;
  http::ServerOptions server;
  mesh::MeshConfig mesh;  // [mesh]: read by load_host_config too
  session::SessionConfig session;  // [serve.session]
  // The `store` app's catalog and carts: "sqlite:PATH" or "postgres://...";
  // empty = sqlite:<state dir>/store.db, shared by every instance on this machine.
  std::string store_db;
};

// Applies the environment (PORT, WEBSITE_INSTANCE_ID) to `config`. Throws
// net::ConfigError for a PORT that is not a port.
void apply_host_environment(HostConfig& config);

// Reads [serve] from `root` into `config`. Throws net::ConfigError.
void load_host_config(const toml::table& root, HostConfig& config);

// Checks a `store` app database URL given as `key`. Throws net::ConfigError
// naming `key` and the value.
void check_store_db_url(const std::string& key, const std::string& url);

// Fills a missing instance id with a random 64-hex one.
void ensure_instance_id(HostConfig& config);

}  // namespace tether::host
