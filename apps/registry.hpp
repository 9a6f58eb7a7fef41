#pragma once
// The built-in apps that `tether serve --app NAME` and `tether up --app NAME`
// run. Linked only into the tether binary (never into the installed
// library); every app uses only the public API, tether/app.hpp, exactly as a
// user's app under tether::run_app does.
#include <string>
#include <string_view>
#include <vector>

#include "tether/app.hpp"

namespace tether::apps {

struct BuiltinApp {
  std::string name;
  std::string summary;      // one line for --help
  bool needs_mesh = false;  // runs a backplane even without [mesh] enabled
  app::Install install;
};

// Every built-in app, whoami first (the default).
const std::vector<BuiltinApp>& builtin_apps();

// Adds an app to the list before the command line is read: a binary built
// on tether's CLI with an app of its own (bench/meshprobe's
// tether-meshprobe) calls it first.
void add_builtin_app(BuiltinApp app);

// The app called `name`, or nullptr.
const BuiltinApp* find_builtin_app(std::string_view name);

// Their names, for app::check_app_name and help texts.
std::vector<std::string> builtin_app_name_list();
// "whoami, chat, ..." for help texts.
std::string builtin_app_names();

// Each app's installer (apps/<name>/).
void install_whoami(AppSetup& setup);
void install_store(AppSetup& setup);
void install_chat(AppSetup& setup);
void install_signalr_chat(AppSetup& setup);

}  // namespace tether::apps
