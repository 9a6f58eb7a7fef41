#pragma once
// The front door's counters in the Prometheus text exposition format 0.0.4,
// rendered from admin_status_json() so that /status and /metrics can never
// disagree. Every family has HELP and TYPE lines and is named tether_front_*;
// per-instance families carry an `instance_id` label (not `instance`, which
// Prometheus sets to the scrape target). docs/front-door.md lists them.
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace tether::front {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The exposition text for `status` (the shape of admin_status_json()).
// Missing fields are skipped, never an error: the same function serves
// snapshots from older and newer front doors.
std::string render_metrics(const boost::json::object& status);

// `value` escaped for a label value (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

}  // namespace tether::front
