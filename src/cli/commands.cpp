#include "commands.hpp"

#include <pthread.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <cstdio>

#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/io_context.hpp>

#include "tether/front/admin.hpp"
#include "tether/front/config_load.hpp"
#include "tether/front/front_server.hpp"
#include "registry.hpp"
#include "tether/app/app_host.hpp"
#include "tether/app/serve_flags.hpp"
#include "tether/host/host_config.hpp"
#include "tether/host/instance_host.hpp"
#include "tether/mesh/mesh.hpp"
#include "tether/net/config_reader.hpp"
#include "tether/net/endpoint.hpp"
#include "tether/net/log.hpp"
#include "tether/net/self_signed.hpp"
#include "tether/net/stop_signals.hpp"
#include "tether/plan/plan_client.hpp"
#include "tether/plan/plan_config.hpp"
#include "tether/plan/plan_runner.hpp"
#include "tether/sidecar/sidecar.hpp"
#include "tether/session/session_config.hpp"

namespace tether::cli {

namespace asio = boost::asio;
using net::ConfigError;

namespace {

// A port given on the command line; `flag` names it in the error.
std::uint16_t checked_port(const char* flag, int value) {
  if (value < 0 || value > 65535)
    throw ConfigError(std::string(flag) + ": must be 0-65535 (got " + std::to_string(value) + ")");
  return static_cast<std::uint16_t>(value);
}

toml::table load_file(const std::string& path) {
  if (path.empty()) return {};
  auto root = net::parse_config_file(path);
  net::reject_unknown_sections(root, {"up", "front", "serve", "mesh"});
  return root;
}

void apply_log_level(const std::string& level) {
  if (!level.empty() && !net::set_log_level(level))
    throw ConfigError("--log-level: expected trace, debug, info, warn, error or off (got \"" +
                      level + "\")");
}

// Flags shared by `front` and `up` for the front door.
struct FrontFlags {
  std::string listen;
  int port = -1;
  int threads = -1;
  std::string balancing;
  std::string affinity;  // on|off
  std::string cookie;
  std::string token;
  std::vector<std::string> instances;
  bool access_log = false;
  bool reuse_port = false;
  std::string tls_cert, tls_key;
  int tls_port = -1;

  void add(CLI::App* cmd, bool with_instances) {
    cmd->add_option("--listen", listen, "Address to listen on");
    cmd->add_option("--port,-p", port, "Port to listen on (0: the OS picks)");
    cmd->add_option("--threads", threads, "Worker threads (0: one per core)");
    cmd->add_option("--balancing", balancing, "least-requests | round-robin | power-of-two");
    cmd->add_option("--affinity", affinity, "Session affinity: on | off");
    cmd->add_option("--cookie-name", cookie, "Affinity cookie name (default ARRAffinity)");
    cmd->add_option("--token", token, "Cookie value: instance-id | sha256");
    cmd->add_flag("--access-log", access_log, "Log one line per request");
    cmd->add_flag(
        "--reuse-port", reuse_port,
        "Bind with SO_REUSEPORT: a new front door may start beside this one (restart in place)");
    cmd->add_option("--tls-cert", tls_cert, "PEM certificate chain: also serve HTTPS");
    cmd->add_option("--tls-key", tls_key, "PEM private key for --tls-cert");
    cmd->add_option("--tls-port", tls_port, "HTTPS port (default 8443; 0: the OS picks)");
    if (with_instances)
      cmd->add_option("--instance", instances, "An instance: [id=]host:port (repeatable)");
  }

  void apply(front::FrontConfig& c) const {
    if (!listen.empty()) c.listen = listen;
    if (port >= 0) c.port = checked_port("--port", port);
    if (threads >= 0) c.threads = static_cast<unsigned>(threads);
    if (!balancing.empty()) {
      if (balancing == "least-requests") c.balancing = front::Balancing::least_requests;
      else if (balancing == "round-robin") c.balancing = front::Balancing::round_robin;
      else if (balancing == "power-of-two") c.balancing = front::Balancing::power_of_two;
      else
        throw ConfigError("--balancing: must be least-requests, round-robin or power-of-two (got \"" +
                          balancing + "\")");
    }
    if (!affinity.empty()) {
      if (affinity == "on") c.affinity.enabled = true;
      else if (affinity == "off") c.affinity.enabled = false;
      else throw ConfigError("--affinity: must be on or off (got \"" + affinity + "\")");
    }
    if (!cookie.empty()) c.affinity.cookie = cookie;
    if (!token.empty()) {
      if (token == "instance-id") c.affinity.token = front::TokenMode::instance_id;
      else if (token == "sha256") c.affinity.token = front::TokenMode::sha256;
      else throw ConfigError("--token: must be instance-id or sha256 (got \"" + token + "\")");
    }
    if (access_log) c.access_log = true;
    if (reuse_port) c.reuse_port = true;
    if (!tls_cert.empty()) c.tls.cert = tls_cert;
    if (!tls_key.empty()) c.tls.key = tls_key;
    if (tls_port >= 0) c.tls.port = checked_port("--tls-port", tls_port);
    if (c.tls.cert.empty() != c.tls.key.empty())
      throw ConfigError(std::string(c.tls.cert.empty() ? "--tls-cert" : "--tls-key") +
                        ": --tls-cert and --tls-key go together (got only one)");
    if (!instances.empty()) {
      c.instances.clear();
      for (const auto& spec : instances) {
        front::InstanceConfig ic;
        auto eq = spec.find('=');
        ic.address = eq == std::string::npos ? spec : spec.substr(eq + 1);
        ic.id = eq == std::string::npos ? spec : spec.substr(0, eq);
        if (!net::parse_host_port(ic.address))
          throw ConfigError("--instance: expected [id=]host:port (got \"" + spec + "\")");
        c.instances.push_back(ic);
      }
    }
  }
};

}  // namespace

void add_serve_command(CLI::App& app) {
  // The flags are parsed by the library (app/serve_flags.hpp), the same
  // parser tether::run_app uses: CLI11 only hands them over.
  auto* cmd = app.add_subcommand("serve", "Run one app instance (PORT, WEBSITE_INSTANCE_ID)");
  cmd->prefix_command();
  cmd->allow_extras();
  cmd->set_help_flag();
  cmd->callback([cmd] {
    auto args = cmd->remaining();
    host::HostConfig cfg;
    if (app::parse_serve_flags(args, cfg)) {
      std::printf(
          "usage: tether serve [flags] [-- CMD [ARGS...]]\n"
          "Run one app instance (PORT, WEBSITE_INSTANCE_ID): a built-in app (--app), or any\n"
          "command after --, which gets PORT, WEBSITE_INSTANCE_ID and the local API "
          "(docs/api.md).\n"
          "%sBuilt-in apps (--app): %s\n",
          app::kServeFlagsHelp, apps::builtin_app_names().c_str());
      return;
    }
    if (!cfg.sidecar.command.empty()) {
      // Any command as the app, behind this instance (docs/api.md).
      int code = sidecar::run_sidecar("tether serve", std::move(cfg));
      if (code != 0) std::exit(code);
      return;
    }
    const bool app_flag = std::find(args.begin(), args.end(), "--app") != args.end();
    app::check_app_name(app_flag ? "--app" : "serve.app", cfg.app, apps::builtin_app_name_list());
    const auto* builtin = apps::find_builtin_app(cfg.app);
    int code =
        app::serve_app("tether serve", std::move(cfg), builtin->install, builtin->needs_mesh);
    if (code != 0) std::exit(code);
  });
}

namespace {

// The admin endpoint of `tether front` ([front.admin]): an http::Server on
// its own io_context thread serving front/admin.hpp's routes.
class FrontAdmin {
 public:
  // Binds admin.listen:admin.port; returns the bound port. Throws
  // boost::system::system_error when the bind fails.
  FrontAdmin(front::FrontServer& server, const front::AdminConfig& admin) {
    front::add_admin_routes(router_, &server);
    http::ServerOptions opts;
    opts.name = "admin";
    http_ = std::make_unique<http::Server>(ctx_.get_executor(),
                                           front::admin_handler(&router_, admin.token), opts);
    port_ = http_->listen(admin.listen, static_cast<std::uint16_t>(admin.port));
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(ctx_);
      ctx_.run();
    });
  }
  ~FrontAdmin() {
    http_->stop();
    ctx_.stop();
    if (thread_.joinable()) thread_.join();
  }
  FrontAdmin(const FrontAdmin&) = delete;
  FrontAdmin& operator=(const FrontAdmin&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  asio::io_context ctx_{1};
  host::Router router_;
  std::unique_ptr<http::Server> http_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

void add_front_command(CLI::App& app) {
  struct Opts {
    std::string config, log_level, admin_listen, admin_token;
    int admin_port = -2;  // -2: not given
    FrontFlags flags;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("front", "Run the front door in front of running instances");
  cmd->add_option("--config,-c", o->config, "TOML config file ([front])");
  cmd->add_option("--log-level", o->log_level, "trace|debug|info|warn|error|off");
  cmd->add_option("--admin-port", o->admin_port,
                  "Admin endpoint port (dashboard, /status, /metrics; 0: the OS picks, -1: off)");
  cmd->add_option("--admin-listen", o->admin_listen,
                  "Admin endpoint address (default 127.0.0.1; elsewhere needs --admin-token)");
  cmd->add_option("--admin-token", o->admin_token,
                  "Bearer token required by the admin endpoint (default: none)");
  o->flags.add(cmd, true);
  cmd->callback([o] {
    net::block_stop_signals();
    apply_log_level(o->log_level);
    // The configuration from the file and the flags; run again on SIGHUP.
    auto build = [o] {
    front::FrontConfig cfg;
    front::load_front_config(load_file(o->config), cfg);
    o->flags.apply(cfg);
    if (o->admin_port != -2) {
      if (o->admin_port < -1 || o->admin_port > 65535)
        throw ConfigError("--admin-port: must be -1 (off) or 0-65535 (got " +
                          std::to_string(o->admin_port) + ")");
      cfg.admin.port = o->admin_port;
      if (o->admin_port >= 0) cfg.admin.enabled = true;
    }
    if (!o->admin_listen.empty()) cfg.admin.listen = o->admin_listen;
    if (!o->admin_token.empty()) cfg.admin.token = o->admin_token;
    front::validate_front_config(cfg);
    return cfg;
    };
    auto cfg = build();
    auto table = std::make_shared<front::InstanceTable>(cfg.affinity.token);
    front::FrontServer server(cfg, table);
    auto port = server.start();
    std::printf("tether front: listening on %s:%u with %zu instance(s)\n", cfg.listen.c_str(),
                port, cfg.instances.size());
    if (server.tls_port())
      std::printf("tether front: listening on https %s:%u\n", cfg.listen.c_str(),
                  server.tls_port());
    std::unique_ptr<FrontAdmin> admin;
    if (cfg.admin.on()) {
      admin = std::make_unique<FrontAdmin>(server, cfg.admin);
      std::printf("tether front: admin %s/\n",
                  net::local_http_url(cfg.admin.listen, admin->port()).c_str());
    }
    std::fflush(stdout);
    while (net::wait_for_stop_signal() == SIGHUP) {
      // Reload: instances change in place; connections are not dropped.
      auto log = net::logger("front");
      try {
        log->info("SIGHUP: {}", server.reload(build()));
      } catch (const std::exception& e) {
        log->error("SIGHUP: reload failed, keeping the running configuration: {}", e.what());
      }
    }
    admin.reset();  // its routes use `server`
    server.stop(std::chrono::seconds(10));
  });
}

void add_up_command(CLI::App& app) {
  struct Opts {
    std::string config, log_level, state_dir, app;
    std::vector<std::string> command;
    std::string session_store, store_db;
    int instances = -1;
    int admin_port = -1;
    bool disable_affinity = false;
    bool tls = false;
    bool dapr = false;
    FrontFlags flags;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("up", "Run a local plan: a front door and N instances");
  cmd->add_flag("--tls", o->tls,
                "Also serve HTTPS (self-signed certificate for localhost unless --tls-cert)");
  cmd->add_option("--config,-c", o->config, "TOML config file ([up], [front], [serve])");
  cmd->add_option("--instances,-n", o->instances, "Number of instances (default 3)");
  cmd->add_option("--admin-port", o->admin_port, "Admin port on 127.0.0.1 (default: OS picks)");
  cmd->add_option("--state-dir", o->state_dir, "Where plan-<port>.json is written");
  cmd->add_option("--app", o->app,
                  "Built-in app for the instances (" + apps::builtin_app_names() + ")");
  cmd->add_flag("--disable-affinity", o->disable_affinity,
                "Instances send Arr-Disable-Session-Affinity: True");
  cmd->add_option("--session-store", o->session_store,
                  "Instances keep sessions in: memory | redis://host:port | /path/redis.sock | "
                  "sqlite:PATH | postgres://...");
  cmd->add_option("--store-db", o->store_db,
                  "The store app's database for every instance: sqlite:PATH | postgres://...");
  cmd->add_option("--log-level", o->log_level, "trace|debug|info|warn|error|off");
  cmd->add_flag("--dapr", o->dapr,
                "With -- CMD: the instances also serve Dapr's pub/sub API (docs/api.md)");
  cmd->add_option("command", o->command,
                  "-- CMD [ARGS...]: run any command as the instances' app (docs/api.md)");
  o->flags.add(cmd, false);
  cmd->callback([o] {
    apply_log_level(o->log_level);
    plan::PlanConfig cfg;
    cfg.front.listen = "127.0.0.1";
    auto root = load_file(o->config);
    plan::load_plan_config(root, cfg);
    app::check_app_name("up.app", cfg.app, apps::builtin_app_name_list());
    front::load_front_config(root, cfg.front);
    bool store_db_configured = false;
    bool serve_command = false;  // [serve] command: the children read it themselves
    {
      host::HostConfig check;  // children read [serve]; fail here, once, if it is bad
      host::load_host_config(root, check);
      app::check_app_name("serve.app", check.app, apps::builtin_app_name_list());
      cfg.mesh_store_configured = !check.mesh.store.empty();
      store_db_configured = !check.store_db.empty();
      serve_command = !check.sidecar.command.empty();
      cfg.command_start_limit = check.sidecar.start_limit;
    }
    o->flags.apply(cfg.front);
    front::validate_front_config(cfg.front);
    if (o->instances >= 0) {
      if (o->instances > 256)
        throw ConfigError("--instances: must be 0-256 (got " + std::to_string(o->instances) + ")");
      cfg.instances = static_cast<unsigned>(o->instances);
    }
    if (o->admin_port >= 0) cfg.admin_port = checked_port("--admin-port", o->admin_port);
    if (!o->state_dir.empty()) cfg.state_dir = o->state_dir;
    if (o->tls && cfg.front.tls.cert.empty()) {
      // A fresh self-signed certificate for localhost in the state directory.
      auto dir = plan::resolve_state_dir(cfg.state_dir);
      std::filesystem::create_directories(dir);
      auto stem = dir + "/self-signed-" + std::to_string(::getpid());
      net::write_self_signed(stem + ".crt", stem + ".key", {"localhost"}, {"127.0.0.1", "::1"});
      cfg.front.tls.cert = stem + ".crt";
      cfg.front.tls.key = stem + ".key";
    }
    if (!o->app.empty()) {
      app::check_app_name("--app", o->app, apps::builtin_app_name_list());
      cfg.app = o->app;
    }
    if (o->disable_affinity) cfg.serve_args.push_back("--disable-affinity");
    if (o->dapr) cfg.serve_args.push_back("--dapr");
    if (!o->session_store.empty()) {
      session::check_store_url("--session-store", o->session_store);
      cfg.serve_args.push_back("--session-store");
      cfg.serve_args.push_back(o->session_store);
    }
    if (!o->store_db.empty()) {
      host::check_store_db_url("--store-db", o->store_db);
      cfg.serve_args.push_back("--store-db");
      cfg.serve_args.push_back(o->store_db);
    } else if (cfg.app == "store" && !store_db_configured) {
      // The store app's instances share one database: store.db in this plan's
      // state directory (which --state-dir may have moved).
      auto dir = plan::resolve_state_dir(cfg.state_dir);
      std::filesystem::create_directories(dir);
      cfg.serve_args.push_back("--store-db");
      cfg.serve_args.push_back("sqlite:" + dir + "/store.db");
    }
    if (!o->log_level.empty()) {
      cfg.serve_args.push_back("--log-level");
      cfg.serve_args.push_back(o->log_level);
    }
    if (!o->command.empty()) cfg.command = o->command;
    if (!cfg.command.empty() || serve_command) plan::use_command(cfg);
    cfg.config_file = o->config;
    plan::run_plan(std::move(cfg));
  });
}

void add_plan_control_commands(CLI::App& app) {
  struct Opts {
    int port = 8080;
    std::string admin, state_dir, instance, admin_token;
    unsigned instances = 0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto target = [o](CLI::App* cmd) {
    cmd->add_option("--port,-p", o->port, "Front-door port of the plan (default 8080)");
    cmd->add_option("--admin", o->admin, "Admin endpoint host:port (instead of --port)");
    cmd->add_option("--state-dir", o->state_dir, "Where plan-<port>.json is read");
  };
  auto admin = [o] {
    return plan::find_admin(o->admin, checked_port("--port", o->port), o->state_dir);
  };

  auto* status = app.add_subcommand("status", "Show a running plan's instances");
  target(status);
  status->add_flag("--json", o->json, "Print the raw JSON");
  status->callback([o, admin] {
    if (int rc = plan::print_status(admin(), o->json)) throw CLI::RuntimeError(rc);
  });

  auto* scale = app.add_subcommand("scale", "Set the number of instances of a running plan");
  target(scale);
  scale->add_option("instances", o->instances, "Number of instances")->required();
  scale->callback([o, admin] {
    if (int rc = plan::request_scale(admin(), o->instances)) throw CLI::RuntimeError(rc);
  });

  auto* kill = app.add_subcommand("kill", "Kill an instance (the plan replaces it)");
  target(kill);
  kill->add_option("instance", o->instance, "Instance id or unique prefix")->required();
  kill->callback([o, admin] {
    if (int rc = plan::request_kill(admin(), o->instance)) throw CLI::RuntimeError(rc);
  });

  auto* logs = app.add_subcommand("logs", "Print the last lines an instance's app wrote");
  target(logs);
  logs->add_option("instance", o->instance, "Instance id or unique prefix")->required();
  logs->callback([o, admin] {
    if (int rc = plan::print_logs(admin(), o->instance)) throw CLI::RuntimeError(rc);
  });

  // drain / undrain also reach a standalone `tether front` with --admin and
  // --admin-token.
  for (bool on : {true, false}) {
    auto* cmd = app.add_subcommand(
        on ? "drain" : "undrain",
        on ? "Give an instance no new users; users pinned to it by cookie continue"
           : "Let a drained instance take new users again");
    target(cmd);
    cmd->add_option("instance", o->instance, "Instance id or unique prefix")->required();
    cmd->add_option("--admin-token", o->admin_token, "Bearer token of the admin endpoint");
    cmd->callback([o, admin, on] {
      if (int rc = plan::request_drain(admin(), o->instance, on, o->admin_token))
        throw CLI::RuntimeError(rc);
    });
  }
}

}  // namespace tether::cli
