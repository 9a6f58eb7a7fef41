#pragma once
// Configuration of the local plan (`tether up`): a front door and N instances
// on one machine. [up] in tether.toml; the front door reads [front] and the
// instances [serve] of the same file.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "tether/front/config.hpp"

namespace tether::plan {

// The front door of a local plan: loopback only, and health-checking the
// instances' /healthz, so a new instance gets traffic once it answers.
front::FrontConfig plan_front_defaults();

struct PlanConfig {
  unsigned instances = 3;
  std::string app = "signalr-chat";  // seed 004's chat (docs/realtime.md); --app whoami for the echo app
  std::string admin_listen = "127.0.0.1";  // loopback only: the admin API is unauthenticated
  std::uint16_t admin_port = 0;            // 0 = the OS picks (written to the state file)
  std::string state_dir;                   // empty: $TETHER_STATE_DIR, $XDG_RUNTIME_DIR/tether, /tmp/tether-$UID
  std::chrono::milliseconds stop_grace{5'000};  // SIGTERM -> SIGKILL for instances
  std::chrono::milliseconds drain_grace{10'000};  // scale-in: in-flight requests finish first
  std::chrono::milliseconds start_timeout{30'000};  // an instance must report its port by then
  std::vector<std::string> serve_args;     // extra arguments for every `tether serve` child
  std::string config_file;                 // passed on to children (--config)
  bool mesh_store_configured = false;      // [mesh] store set: else a SQLite file in state_dir
  front::FrontConfig front = plan_front_defaults();
  // Any command as every instance's app (`tether up -- CMD`, [up] command):
  // each instance is `tether serve ... -- CMD` (docs/api.md). Empty: `app`.
  std::vector<std::string> command;
  std::chrono::milliseconds command_start_limit{230'000};  // [serve] start_limit
};

// Switches `config` to run its command (use after the command is set): the
// front door checks the instances' own /.tether/health, and an instance may
// take the app's start limit to report ready.
void use_command(PlanConfig& config);

// Reads [up] from `root`. Throws net::ConfigError.
void load_plan_config(const toml::table& root, PlanConfig& config);

// The directory holding plan-<port>.json state files.
std::string resolve_state_dir(const std::string& configured);

}  // namespace tether::plan
