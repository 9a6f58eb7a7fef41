#pragma once
// The plan's admin endpoint (loopback only): what `tether status`, `tether
// scale` and `tether kill` talk to.
//   GET  /status                 plan, front door and instances as JSON
//   POST /scale?instances=N      set the number of instances
//   POST /kill?instance=ID       SIGKILL an instance (id or unique prefix)
// plus the front door's admin routes (front/admin.hpp): the dashboard at /,
// /metrics, POST /instances/{id}/drain and /undrain. The front door's status
// (front::admin_status_json) is under "front" in /status.
#include "tether/front/front_server.hpp"
#include "tether/host/router.hpp"
#include "tether/plan/supervisor.hpp"

namespace tether::plan {

class MeshWatch;

struct PlanView {
  Supervisor* supervisor;
  front::FrontServer* front;
  std::string front_url;
  std::string admin_url;
  MeshWatch* mesh = nullptr;  // the instances' mesh, as /status's "mesh"
};

// Adds the admin routes to `router`. `view` must outlive the router.
void add_admin_routes(host::Router& router, const PlanView* view);

}  // namespace tether::plan
