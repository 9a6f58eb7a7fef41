#pragma once
// One app instance with everything `tether serve` gives it -- the HTTP host
// (router, sessions, X-Instance-Id, the affinity opt-out), the configured
// backplane (mesh or Redis) and SignalR hubs -- and the process around it.
// `tether serve --app NAME` and tether::run_app both go through serve_app(),
// so a user's app gets exactly what the built-in ones get.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "tether/app/app_setup.hpp"
#include "tether/host/instance_host.hpp"

namespace tether::app {

using Install = std::function<void(AppSetup&)>;

class AppHost {
 public:
  // `config` is complete (file, environment and flags applied).
  // `needs_mesh`: the app cannot work without a backplane, so one is made
  // even when config.mesh.enabled is off. Throws net::ConfigError for a bad
  // [mesh] or session configuration (the message names the key and value).
  explicit AppHost(host::HostConfig config, bool needs_mesh = false);
  ~AppHost();
  AppHost(const AppHost&) = delete;
  AppHost& operator=(const AppHost&) = delete;

  // What the app's install function gets. Valid until the AppHost is
  // destroyed; routes and hubs may be added until start().
  AppSetup& setup() { return *setup_; }

  // Binds, serves on the instance's I/O thread and starts the backplane.
  // Returns the bound port. Throws boost::system::system_error when the
  // bind fails.
  std::uint16_t start();

  // Says goodbye to the hub once the send window drained (at most `drain`),
  // then stops serving. Safe to call twice.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(2));

  const host::HostConfig& config() const { return instance_->config(); }
  const host::InstanceInfo& instance() const { return instance_->instance(); }

 private:
  std::unique_ptr<host::InstanceHost> instance_;
  std::unique_ptr<mesh::Backplane> backplane_;
  std::optional<AppSetup> setup_;
  bool started_ = false;
  bool stopped_ = false;
};

// The life of an app process: builds an AppHost from `config`, runs
// `install`, starts, prints "<prog>: instance ID listening on ADDR:PORT" on
// stdout, waits for SIGINT or SIGTERM (SIGHUP is ignored), stops. Blocks
// the stop signals itself (call before starting other threads). Returns
// the exit code: 0 after a stop signal, 2 for a bad configuration (the
// message, naming the key, goes to stderr), 1 when the port cannot be bound.
int serve_app(const char* prog, host::HostConfig config, const Install& install,
              bool needs_mesh = false);

}  // namespace tether::app
