#pragma once
// Configuration of one app instance ([serve] in tether.toml, flags, and the
// App Service environment: PORT, WEBSITE_INSTANCE_ID).
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "tether/http/server.hpp"
#include "tether/mesh/config.hpp"
#include "tether/session/session_config.hpp"

namespace tether::host {

// The user's app run by the instance as a sidecar (`tether serve -- CMD`,
// [serve] command; docs/api.md): the command and App Service's knobs.
struct SidecarConfig {
  std::vector<std::string> command;  // empty: a built-in app (--app)
  // App Service's warm-up request, and the statuses of its answer that count
  // ("any", or ranges such as "200-299,404").
  std::string warmup_path = "/robots933456.txt";
  std::string warmup_status = "any";
  std::chrono::milliseconds start_limit{230'000};  // port open + warm-up answered by then
  std::string health_path;                         // 2xx = healthy; "" = process alive, port open
  std::chrono::milliseconds stop_grace{10'000};    // SIGTERM -> SIGKILL for the app's group
  std::string site_name = "tether";                // WEBSITE_SITE_NAME (and Dapr's app id)
  bool dapr = false;                               // also serve Dapr's pub/sub API (DAPR_HTTP_PORT)
};

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
  SidecarConfig sidecar;  // [serve] command, warmup_path, start_limit, health_path, ...
};

// Applies the environment (PORT, WEBSITE_INSTANCE_ID) to `config`. Throws
// net::ConfigError for a PORT that is not a port.
void apply_host_environment(HostConfig& config);

// Reads [serve] from `root` into `config`. Throws net::ConfigError.
void load_host_config(const toml::table& root, HostConfig& config);

// Checks a `store` app database URL given as `key`. Throws net::ConfigError
// naming `key` and the value.
void check_store_db_url(const std::string& key, const std::string& url);

// `text` as status ranges ("any" = 100-599; "200-299,404"); nullopt when it
// is not of that form.
std::optional<std::vector<std::pair<unsigned, unsigned>>> parse_status_ranges(
    const std::string& text);

// Fills a missing instance id with a random 64-hex one.
void ensure_instance_id(HostConfig& config);

}  // namespace tether::host
