#pragma once
// The front door: accepts clients, decides the instance for each request
// (affinity, then balancing) and relays it. Runs `threads` workers, each an
// io_context on its own thread with its own upstream pool; one acceptor hands
// connections to workers in turn. See docs/architecture.md for the phases.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/object.hpp>

#include "tether/front/config.hpp"
#include "tether/front/instance_table.hpp"
#include "tether/front/stats.hpp"

namespace tether::front {

class FrontServer {
 public:
  // `table` may be shared with a supervisor that adds and removes instances
  // while the server runs. The configured [[front.instances]] are added to it.
  FrontServer(FrontConfig config, std::shared_ptr<InstanceTable> table);
  ~FrontServer();
  FrontServer(const FrontServer&) = delete;
  FrontServer& operator=(const FrontServer&) = delete;

  // Binds config.listen:config.port and starts the worker threads. Returns the
  // bound port. Throws boost::system::system_error when the bind fails.
  std::uint16_t start();

  // Graceful stop: stops accepting, closes idle client connections, lets
  // in-flight exchanges finish for up to `grace`, then closes the rest and
  // joins the workers. Safe to call twice; not from a worker thread.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // Applies a re-read configuration: instances are added, removed or
  // re-addressed in place (in-flight exchanges and tunnels continue; users
  // pinned to a removed instance re-pin). Other changed keys are named in the
  // returned summary as needing a restart. Thread-safe.
  std::string reload(const FrontConfig& next);

  // The HTTPS listener's port (after start()); 0 when TLS is not configured.
  std::uint16_t tls_port() const { return tls_port_; }

  InstanceTable& instances() { return *table_; }
  const FrontStats& stats() const;
  const FrontConfig& config() const;

  // Instances and counters as JSON (admin /status).
  boost::json::object status_json() const;

  struct Shared;
  struct Worker;

 private:
  std::shared_ptr<InstanceTable> table_;
  std::unique_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> tls_acceptor_;
  std::uint16_t tls_port_ = 0;
  std::unique_ptr<class HealthChecker> health_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace tether::front
