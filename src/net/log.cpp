#include "tether/net/log.hpp"

#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace tether::net {
namespace {
std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::info;
bool g_level_from_env = false;

spdlog::level::level_enum initial_level() {
  if (!g_level_from_env) {
    g_level_from_env = true;
    if (const char* env = std::getenv("TETHER_LOG")) {
      auto lvl = spdlog::level::from_str(env);
      if (lvl != spdlog::level::off || std::string(env) == "off") g_level = lvl;
    }
  }
  return g_level;
}
}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(component)) return existing;
  auto log = spdlog::stderr_color_mt(component);
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  log->set_level(initial_level());
  return log;
}

bool set_log_level(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") return false;
  std::lock_guard lock(g_mutex);
  g_level_from_env = true;
  g_level = lvl;
  spdlog::apply_all([lvl](const std::shared_ptr<spdlog::logger>& l) { l->set_level(lvl); });
  return true;
}

}  // namespace tether::net
