#pragma once
// The built-in apps `tether serve --app NAME` (and `tether up --app NAME`)
// can run. Each app is a function that adds its routes to the instance's
// Router; state an app needs lives in objects its handlers share.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tether/host/host_config.hpp"
#include "tether/host/router.hpp"

namespace tether::mesh {
class Backplane;
}

namespace tether::host {

// What a built-in app gets to set itself up.
struct AppSetup {
  Router& router;
  const HostConfig& config;
  const InstanceInfo& instance;
  mesh::Backplane* backplane = nullptr;  // null when the instance runs no mesh
};

struct BuiltinApp {
  std::string name;
  std::string summary;  // one line for --help
  bool needs_mesh = false;
  std::function<void(AppSetup&)> install;
};

// Every built-in app, whoami first (the default).
const std::vector<BuiltinApp>& builtin_apps();

// The app called `name`, or nullptr.
const BuiltinApp* find_builtin_app(std::string_view name);

// "whoami, chat, ..." for help texts and error messages.
std::string builtin_app_names();

}  // namespace tether::host
