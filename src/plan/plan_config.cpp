#include "tether/plan/plan_config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "tether/net/config_reader.hpp"

namespace tether::plan {

front::FrontConfig plan_front_defaults() {
  front::FrontConfig c;
  c.listen = "127.0.0.1";
  c.health.path = "/healthz";
  c.health.interval = std::chrono::seconds(1);
  // While the plan starts (or scales from zero) requests wait for the first
  // instance instead of 503: the instances' own first mesh dials among them.
  c.timeouts.queue = std::chrono::seconds(30);
  return c;
}

void load_plan_config(const toml::table& root, PlanConfig& c) {
  net::ConfigReader up(root.get_as<toml::table>("up"), "up");
  c.instances = static_cast<unsigned>(up.integer("instances", c.instances, 0, 256));
  c.app = up.string("app", c.app);  // checked by `tether up` (app::check_app_name)
  c.admin_listen = up.string("admin_listen", c.admin_listen);
  c.admin_port = static_cast<std::uint16_t>(up.integer("admin_port", c.admin_port, 0, 65535));
  c.state_dir = up.string("state_dir", c.state_dir);
  c.stop_grace = up.duration("stop_grace", c.stop_grace);
  c.drain_grace = up.duration("drain_grace", c.drain_grace);
  c.start_timeout = up.duration("start_timeout", c.start_timeout);
  c.command = up.strings("command", c.command);
  up.reject_unknown();
}

void use_command(PlanConfig& c) {
  // The app's own paths are the app's: the front door asks the instance.
  if (c.front.health.path == "/healthz") c.front.health.path = "/.tether/health";
  c.start_timeout = std::max(c.start_timeout, c.command_start_limit + std::chrono::seconds(10));
}

std::string resolve_state_dir(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* d = std::getenv("TETHER_STATE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_RUNTIME_DIR"); d && *d) return std::string(d) + "/tether";
  return "/tmp/tether-" + std::to_string(::getuid());
}

}  // namespace tether::plan
