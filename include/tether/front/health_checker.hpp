#pragma once
// Active health checks, as App Service and HAProxy do them: GET
// `health.path` on every instance every `health.interval`; a 2xx within
// `health.timeout` passes (redirects are not followed: a 3xx fails). After
// `fall` consecutive failures an instance leaves rotation (no new users, its
// pinned users are re-pinned); after `rise` consecutive passes it returns.
// New instances are out of rotation until their first pass. Never more than
// `max_unhealthy_share` of the instances are removed, and none when all fail.
//
// Runs on one io_context (the front door's worker 0); all per-instance check
// bookkeeping is touched only there.
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "tether/front/config.hpp"
#include "tether/front/instance_table.hpp"
#include "tether/front/stats.hpp"

namespace tether::front {

class HealthChecker {
 public:
  HealthChecker(boost::asio::io_context& ctx, HealthConfig config,
                std::shared_ptr<InstanceTable> table, FrontStats& stats);

  // Starts the check loop (call once, from any thread).
  void start();
  // Stops it; in-flight checks finish on their own timeouts.
  void stop();

  // Decides, from each instance's check state, which instances are in
  // rotation, honouring max_unhealthy_share. Pure over the snapshot; exposed
  // for unit tests. Returns the number of instances removed.
  static std::size_t apply_rotation(const InstanceSnapshot& snap, double max_unhealthy_share);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace tether::front
