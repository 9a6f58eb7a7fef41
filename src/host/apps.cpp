#include "tether/host/apps.hpp"

#include "tether/host/instance_host.hpp"

namespace tether::host {

void add_store_routes(AppSetup& setup);  // app_store.cpp

void add_chat_routes(AppSetup& setup);       // app_chat.cpp
void add_meshprobe_routes(AppSetup& setup);  // app_meshprobe.cpp
void add_signalr_chat_routes(AppSetup& setup);  // realtime/app_signalr_chat.cpp

const std::vector<BuiltinApp>& builtin_apps() {
  static const std::vector<BuiltinApp> apps = {
      {"whoami", "answers who served the request (seed 002's experiment app)", false,
       [](AppSetup& s) { add_whoami_routes(s.router); }},
      {"store", "a small MusicStore: carts in a shared database, cart id in the session (seeds 002/003)",
       false, add_store_routes},
      {"chat", "cross-instance chat over plain WebSockets, relayed by the mesh (seed 000)",
       true, add_chat_routes},
      {"signalr-chat",
       "seed 004's chat on a SignalR-compatible hub, scaled out over the mesh (official @microsoft/signalr client)",
       true, add_signalr_chat_routes},
      {"meshprobe", "publishes and checks numbered mesh messages (tests, bench/mesh)", true,
       add_meshprobe_routes},
  };
  return apps;
}

const BuiltinApp* find_builtin_app(std::string_view name) {
  for (const auto& app : builtin_apps())
    if (app.name == name) return &app;
  return nullptr;
}

std::string builtin_app_names() {
  std::string out;
  for (const auto& app : builtin_apps()) {
    if (!out.empty()) out += ", ";
    out += app.name;
  }
  return out;
}

}  // namespace tether::host
