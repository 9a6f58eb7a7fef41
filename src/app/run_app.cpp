// tether::run_app(): `tether serve` for an app built against the library.
// The same flag parser (serve_flags.cpp) and the same AppHost as `tether
// serve --app NAME`, so the app gets the configured backplane and hubs too.
#include <cstdio>
#include <string>
#include <vector>

#include "tether/app.hpp"
#include "tether/net/config_reader.hpp"

namespace tether {

int run_app(int argc, char** argv, const std::function<void(AppSetup&)>& install) {
  const char* prog = argc > 0 ? argv[0] : "app";
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  HostConfig config;
  try {
    if (app::parse_serve_flags(args, config)) {
      std::printf("usage: %s [flags]\n%s", prog, app::kServeFlagsHelp);
      return 0;
    }
  } catch (const net::ConfigError& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
    std::fprintf(stderr, "usage: %s [flags]\n%s", prog, app::kServeFlagsHelp);
    return 2;
  }
  return app::serve_app(prog, std::move(config), install);
}

}  // namespace tether
