#pragma once
// Durations in configuration: "230s", "500ms", "2m", "1h", or a bare number of
// seconds ("30"). Fractions are allowed ("1.5s").
#include <chrono>
#include <optional>
#include <string_view>

namespace tether::net {

using Millis = std::chrono::milliseconds;

// Parses `text`; nullopt when it is not a non-negative duration.
std::optional<Millis> parse_duration(std::string_view text);

}  // namespace tether::net
