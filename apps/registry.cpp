#include "registry.hpp"

namespace tether::apps {

namespace {
std::vector<BuiltinApp>& registry() {
  static std::vector<BuiltinApp> apps = {
      {"whoami", "answers who served the request (seed 002's experiment app)", false,
       install_whoami},
      {"store",
       "a small MusicStore: carts in a shared database, cart id in the session (seeds 002/003)",
       false, install_store},
      {"chat", "cross-instance chat over plain WebSockets, relayed by the mesh (seed 000)", true,
       install_chat},
      {"signalr-chat",
       "seed 004's chat on a SignalR-compatible hub, scaled out over the mesh (official "
       "@microsoft/signalr client)",
       true, install_signalr_chat},
  };
  return apps;
}
}  // namespace

const std::vector<BuiltinApp>& builtin_apps() { return registry(); }

void add_builtin_app(BuiltinApp app) { registry().push_back(std::move(app)); }

const BuiltinApp* find_builtin_app(std::string_view name) {
  for (const auto& app : builtin_apps())
    if (app.name == name) return &app;
  return nullptr;
}

std::vector<std::string> builtin_app_name_list() {
  std::vector<std::string> out;
  for (const auto& app : builtin_apps()) out.push_back(app.name);
  return out;
}

std::string builtin_app_names() {
  std::string out;
  for (const auto& app : builtin_apps()) {
    if (!out.empty()) out += ", ";
    out += app.name;
  }
  return out;
}

}  // namespace tether::apps
