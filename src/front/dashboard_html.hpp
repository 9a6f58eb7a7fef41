#pragma once
// The admin dashboard: one self-contained HTML page (inline CSS and JS, no
// external assets) that polls /status every second and draws one box per
// instance. It reads both shapes of /status: the front door's (instances at
// the top level) and the plan's (the front door's under "front", processes
// beside it).
#include <string_view>

namespace tether::front {

std::string_view dashboard_html();

}  // namespace tether::front
