#pragma once
#include "tether/plan/plan_config.hpp"

namespace tether::plan {

// `tether up`: starts the front door, the admin endpoint and N instances,
// prints the URLs once the instances are ready, writes the state file, and
// supervises until SIGINT/SIGTERM; then stops everything. Returns the exit
// code. Throws for startup failures (bind errors).
int run_plan(PlanConfig config);

}  // namespace tether::plan
