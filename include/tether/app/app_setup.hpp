#pragma once
// What an app gets to set itself up, whoever runs it: `tether serve --app`
// for the built-in apps (apps/), tether::run_app for yours. The same object
// in both cases (app::AppHost makes it).
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "tether/host/host_config.hpp"
#include "tether/host/router.hpp"
#include "tether/realtime/hub.hpp"

namespace tether::mesh {
class Backplane;
}
namespace tether::session {
class SessionManager;
}

namespace tether::app {

struct AppSetup {
  host::Router& router;
  const host::HostConfig& config;
  const host::InstanceInfo& instance;
  // The configured backplane ([mesh] backplane: the mesh or Redis), already
  // wired to this instance's /.tether/mesh route; null when the instance runs
  // none (no [mesh] enabled, no --mesh, and the app did not ask for it).
  mesh::Backplane* backplane = nullptr;
  session::SessionManager& sessions;
  // The instance's I/O thread: timers and background coroutines of the app.
  boost::asio::any_io_executor executor;

  // Serves a SignalR hub at `path`, as ASP.NET Core's MapHub does
  // (docs/realtime.md): a realtime::Hub on this instance's backplane, so
  // its sends reach clients on every instance. Add methods to the returned
  // hub before the instance starts. Call once per path.
  std::shared_ptr<realtime::Hub> map_hub(const std::string& path,
                                         realtime::HubOptions options = {});
};

}  // namespace tether::app
