// The tether command line (main.cpp calls it; so does bench/meshprobe's
// tether-meshprobe, with one more app registered first).
#include "cli.hpp"

#include <csignal>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "tether/net/config_reader.hpp"
#include "tether/net/event_loop.hpp"
#include "tether/net/malloc_tuning.hpp"

namespace tether::cli {

int run(int argc, char** argv) {
  // First, before anything else runs: may re-execute this binary once
  // (tether/net/malloc_tuning.hpp).
  net::tune_malloc(argv);
  // A peer that went away must fail one write with EPIPE, never kill a
  // front door, plan or instance (hiredis and libpq write with plain write()).
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"tether: an ARR-compatible front door, app instances and a local plan"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       "tether 0.1.0 (event loop: " + std::string(net::event_loop_name()) + ")");
  tether::cli::add_up_command(app);
  tether::cli::add_serve_command(app);
  tether::cli::add_front_command(app);
  tether::cli::add_plan_control_commands(app);
  try {
    net::check_event_loop();
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tether::net::ConfigError& e) {
    std::fprintf(stderr, "tether: configuration error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tether: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tether::cli
