#pragma once
// One named logger per component ("front", "host", "plan", ...), all writing to
// stderr with the same pattern. Levels come from TETHER_LOG (trace..off).
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace tether::net {

// Returns the logger for `component`, creating it on first use. Thread-safe.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Sets the level of every logger, present and future. Accepts spdlog level
// names; returns false for an unknown name.
bool set_log_level(const std::string& level);

}  // namespace tether::net
