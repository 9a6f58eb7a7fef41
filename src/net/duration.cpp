#include "tether/net/duration.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace tether::net {

std::optional<Millis> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = 0;
  try {
    std::size_t used = 0;
    value = std::stod(std::string(text.substr(0, i)), &used);
    if (used != i) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  std::string_view unit = text.substr(i);
  double factor = 0;
  if (unit.empty() || unit == "s") factor = 1000;
  else if (unit == "ms") factor = 1;
  else if (unit == "m" || unit == "min") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else return std::nullopt;
  double ms = value * factor;
  if (!std::isfinite(ms) || ms < 0 || ms > 1e15) return std::nullopt;
  return Millis(static_cast<long long>(std::llround(ms)));
}

}  // namespace tether::net
