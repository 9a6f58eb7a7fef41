#pragma once
// One app instance (`tether serve`): an HTTP server running a Router, with
// what every response carries on App Service: X-Instance-Id (the seed 002
// experiment) and, where configured, Arr-Disable-Session-Affinity: True.
#include <cstdint>
#include <memory>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "tether/host/host_config.hpp"
#include "tether/host/router.hpp"
#include "tether/session/session_manager.hpp"

namespace tether::host {

class InstanceHost {
 public:
  // Opens the session store config.session names (Redis and PostgreSQL
  // connect on first use). Throws net::ConfigError for a bad store URL and
  // store::StoreError when a SQLite store cannot be opened.
  InstanceHost(HostConfig config, Router router);
  ~InstanceHost();

  // Binds and starts serving on a background thread. Returns the bound port.
  // Throws boost::system::system_error when the bind fails.
  std::uint16_t start();

  // Stops serving and joins the thread. Safe to call twice.
  void stop();

  const InstanceInfo& instance() const { return info_; }
  // Routes may be added until start().
  Router& router() { return router_; }
  // The I/O thread's executor (the mesh and app background work run on it).
  asio::any_io_executor executor() { return ctx_.get_executor(); }
  const HostConfig& config() const { return config_; }
  session::SessionManager& sessions() { return sessions_; }

 private:
  asio::awaitable<void> handle(http::Exchange& ex);

  // First, so it is destroyed last: routes and the objects they share (the
  // mesh's hub, app state) own timers and sockets of this io_context.
  asio::io_context ctx_{1};
  HostConfig config_;
  Router router_;
  session::SessionManager sessions_;
  // Sessions live in a shared store (not "memory"): responses say so.
  bool portable_sessions_ = false;
  InstanceInfo info_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

}  // namespace tether::host
