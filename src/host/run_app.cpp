// tether::run_app(): `tether serve` for an app built against the library,
// with a hand-rolled flag parser so the installed library needs no CLI11.
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string_view>

#include "tether/app.hpp"
#include "tether/net/config_reader.hpp"
#include "tether/net/log.hpp"
#include "tether/session/session_config.hpp"

namespace tether {

namespace {

constexpr const char* kUsage =
    "usage: %s [--config FILE] [--listen ADDR] [--port N] [--instance-id ID]\n"
    "          [--session-store URL] [--disable-affinity] [--disable-affinity-path PREFIX]\n"
    "          [--log-level LEVEL]\n";

// Applies argv to `c`. Throws net::ConfigError naming the flag.
void apply_flags(int argc, char** argv, HostConfig& c) {
  // --config first, so that flags override the file wherever they appear.
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string_view(argv[i]) == "--config") {
      auto root = net::parse_config_file(argv[i + 1]);
      net::reject_unknown_sections(root, {"up", "front", "serve", "mesh"});
      host::load_host_config(root, c);
    }
  host::apply_host_environment(c);
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--disable-affinity") {
      c.disable_affinity = true;
      continue;
    }
    if (i + 1 >= argc) throw net::ConfigError(std::string(flag) + ": unknown flag or missing value");
    std::string value = argv[++i];
    if (flag == "--config") {
      // read above
    } else if (flag == "--listen") {
      c.listen = value;
    } else if (flag == "--port") {
      int port = -1;
      try {
        port = std::stoi(value);
      } catch (const std::exception&) {
      }
      if (port < 0 || port > 65535)
        throw net::ConfigError("--port: must be 0-65535 (got \"" + value + "\")");
      c.port = static_cast<std::uint16_t>(port);
    } else if (flag == "--instance-id") {
      c.instance_id = value;
    } else if (flag == "--session-store") {
      session::check_store_url("--session-store", value);
      c.session.store = value;
    } else if (flag == "--disable-affinity-path") {
      if (value.empty() || value.front() != '/')
        throw net::ConfigError("--disable-affinity-path: must start with / (got \"" + value + "\")");
      c.disable_affinity_paths.push_back(value);
    } else if (flag == "--log-level") {
      if (!net::set_log_level(value))
        throw net::ConfigError("--log-level: expected trace, debug, info, warn, error or off (got \"" +
                               value + "\")");
    } else {
      throw net::ConfigError(std::string(flag) + ": unknown flag");
    }
  }
}

}  // namespace

int run_app(int argc, char** argv, const std::function<void(AppSetup&)>& install) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::printf(kUsage, argv[0]);
      return 0;
    }
  // Stop signals wait for sigwait() below, in every thread started from here on.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  HostConfig config;
  std::unique_ptr<InstanceHost> instance;
  try {
    apply_flags(argc, argv, config);
    host::ensure_instance_id(config);
    Router router;
    InstanceInfo info{config.instance_id, static_cast<int>(::getpid())};
    AppSetup setup{router, config, info, nullptr};
    install(setup);
    instance = std::make_unique<InstanceHost>(config, std::move(router));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    std::fprintf(stderr, kUsage, argv[0]);
    return 2;
  }
  std::uint16_t port = 0;
  try {
    port = instance->start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: cannot listen on %s:%u: %s\n", argv[0], config.listen.c_str(),
                 config.port, e.what());
    return 1;
  }
  std::printf("instance %s listening on %s:%u\n", instance->instance().id.c_str(),
              config.listen.c_str(), port);
  std::fflush(stdout);
  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  instance->stop();
  return 0;
}

}  // namespace tether
