#include "tether/app/serve_flags.hpp"

#include "tether/net/config_reader.hpp"
#include "tether/net/duration.hpp"
#include "tether/net/log.hpp"
#include "tether/session/session_config.hpp"

namespace tether::app {

const char* const kServeFlagsHelp =
    "  --config FILE              TOML config file ([serve], [serve.session], [mesh])\n"
    "  --listen ADDR              address to listen on (default 0.0.0.0)\n"
    "  --port N                   port (default $PORT or 8080; 0: the OS picks)\n"
    "  --app NAME                 built-in app (tether serve only)\n"
    "  --instance-id ID           instance id (default $WEBSITE_INSTANCE_ID, else random)\n"
    "  --session-store URL        memory | redis://host:port | /path/redis.sock | sqlite:PATH |\n"
    "                             postgres://...\n"
    "  --store-db URL             the store app's database: sqlite:PATH | postgres://...\n"
    "  --disable-affinity         send Arr-Disable-Session-Affinity: True on every response\n"
    "  --disable-affinity-path P  ...only on paths starting with P (repeatable)\n"
    "  --mesh                     join the mesh even if the app does not need it\n"
    "  --mesh-url URL             the front door's public URL (default https://$WEBSITE_HOSTNAME)\n"
    "  --mesh-store URL           hub record store: sqlite:///path.db | postgres://... |\n"
    "                             redis://host:port | azuretable:<connection string>\n"
    "                             (key: $TETHER_MESH_KEY)\n"
    "  --log-level LEVEL          trace | debug | info | warn | error | off\n"
    "  -- CMD [ARGS...]           run CMD as the app, behind this instance (docs/api.md):\n"
    "                             it gets PORT, WEBSITE_INSTANCE_ID, TETHER_API, ...\n"
    "  --warmup-path P            the app is ready once GET P answers (default\n"
    "                             /robots933456.txt)\n"
    "  --warmup-status LIST       the warm-up statuses that count: any (default) or\n"
    "                             ranges such as 200-299,404\n"
    "  --start-limit DURATION     port open and warm-up answered by then (default 230s)\n"
    "  --health-path P            the app is healthy while GET P answers 2xx\n"
    "                             (default: while it runs and its port accepts)\n"
    "  --stop-grace DURATION      SIGTERM, then SIGKILL to the app after this (default 10s)\n"
    "  --dapr                     also serve Dapr's pub/sub API to the app (DAPR_HTTP_PORT)\n";

namespace {

using net::ConfigError;

std::uint16_t port_value(const std::string& flag, const std::string& value) {
  int port = -1;
  std::size_t used = 0;
  try {
    port = std::stoi(value, &used);
  } catch (const std::exception&) {
  }
  if (used != value.size() || port < 0 || port > 65535)
    throw ConfigError(flag + ": must be 0-65535 (got \"" + value + "\")");
  return static_cast<std::uint16_t>(port);
}

}  // namespace

void check_app_name(const std::string& key, const std::string& name,
                    const std::vector<std::string>& known) {
  for (const auto& k : known)
    if (k == name) return;
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  throw ConfigError(key + ": must be one of " + list + " (got \"" + name + "\")");
}

bool parse_serve_flags(const std::vector<std::string>& args, host::HostConfig& c) {
  for (const auto& a : args) {
    if (a == "--") break;  // the app's own arguments follow
    if (a == "--help" || a == "-h") return true;
  }
  // --config first, so that flags override the file wherever they appear.
  for (std::size_t i = 0; i + 1 < args.size() && args[i] != "--"; ++i)
    if (args[i] == "--config" || args[i] == "-c") {
      auto root = net::parse_config_file(args[i + 1]);
      net::reject_unknown_sections(root, {"up", "front", "serve", "mesh"});
      host::load_host_config(root, c);
    }
  host::apply_host_environment(c);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--") {
      c.sidecar.command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      if (c.sidecar.command.empty()) throw ConfigError("--: name the command to run after it");
      break;
    }
    if (flag == "--disable-affinity") {
      c.disable_affinity = true;
      continue;
    }
    if (flag == "--mesh") {
      c.mesh.enabled = true;
      continue;
    }
    if (flag == "--dapr") {
      c.sidecar.dapr = true;
      continue;
    }
    if (flag.empty() || flag.front() != '-')
      throw ConfigError("\"" + flag + "\": unexpected argument");
    if (i + 1 >= args.size()) throw ConfigError(flag + ": unknown flag or missing value");
    const std::string& value = args[++i];
    if (flag == "--config" || flag == "-c") {
      // read above
    } else if (flag == "--listen") {
      c.listen = value;
    } else if (flag == "--port" || flag == "-p") {
      c.port = port_value(flag, value);
    } else if (flag == "--app") {
      c.app = value;
    } else if (flag == "--instance-id") {
      c.instance_id = value;
    } else if (flag == "--session-store") {
      session::check_store_url("--session-store", value);
      c.session.store = value;
    } else if (flag == "--store-db") {
      host::check_store_db_url("--store-db", value);
      c.store_db = value;
    } else if (flag == "--disable-affinity-path") {
      if (value.empty() || value.front() != '/')
        throw ConfigError("--disable-affinity-path: must start with / (got \"" + value + "\")");
      c.disable_affinity_paths.push_back(value);
    } else if (flag == "--mesh-url") {
      c.mesh.public_url = value;
    } else if (flag == "--mesh-store") {
      c.mesh.store = value;
    } else if (flag == "--warmup-path" || flag == "--health-path") {
      if (value.empty() || value.front() != '/')
        throw ConfigError(flag + ": must start with / (got \"" + value + "\")");
      (flag == "--warmup-path" ? c.sidecar.warmup_path : c.sidecar.health_path) = value;
    } else if (flag == "--warmup-status") {
      if (!host::parse_status_ranges(value))
        throw ConfigError(
            "--warmup-status: expected \"any\" or status ranges such as "
            "\"200-299,404\" (got \"" +
            value + "\")");
      c.sidecar.warmup_status = value;
    } else if (flag == "--start-limit" || flag == "--stop-grace") {
      auto d = net::parse_duration(value);
      if (!d) throw ConfigError(flag + ": expected a duration such as 30s (got \"" + value + "\")");
      (flag == "--start-limit" ? c.sidecar.start_limit : c.sidecar.stop_grace) = *d;
    } else if (flag == "--log-level") {
      if (!net::set_log_level(value))
        throw ConfigError("--log-level: expected trace, debug, info, warn, error or off (got \"" +
                          value + "\")");
    } else {
      throw ConfigError(flag + ": unknown flag");
    }
  }
  return false;
}

}  // namespace tether::app
