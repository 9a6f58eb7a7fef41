#pragma once
// Keeps N `tether serve` children running for a local plan, as the platform
// does: each gets a fresh WEBSITE_INSTANCE_ID, joins the front door's
// instance table once it reports its port, leaves it when it exits, and is
// replaced by a new instance (new id) unless it was stopped on purpose.
// Runs on one io_context thread; every public call must come from it.
#include <sys/types.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/array.hpp>
#include <spdlog/logger.h>

#include "tether/front/instance_table.hpp"
#include "tether/plan/plan_config.hpp"

namespace tether::plan {

class Supervisor {
 public:
  Supervisor(boost::asio::io_context& ctx, const PlanConfig& config,
             std::shared_ptr<front::InstanceTable> table, std::string executable);

  // Sets the number of instances: starts new ones, or drains and stops the
  // newest.
  void scale(unsigned instances);

  // SIGKILLs the instance whose id starts with `id_prefix` (at least 4
  // characters, unique). The supervisor replaces it. Returns the full id, or
  // empty when none or several match.
  std::string kill(const std::string& id_prefix);
  // The one instance id starting with `id_prefix` (4+ characters), or "".
  std::string kill_target(const std::string& id_prefix) const;

  // The last lines an instance (id or unique prefix) wrote on stdout (its
  // app's output); empty when none matches.
  std::vector<std::string> last_lines(const std::string& id_prefix) const;

  // Instances that have reported their port and are in the table.
  unsigned ready_count() const;
  unsigned target() const { return target_; }

  // Per-instance state as JSON (id, pid, port, state, started, restarts).
  boost::json::array status_json() const;

  // Stops every instance: SIGTERM, then SIGKILL after config.stop_grace.
  // Completes when all have exited.
  boost::asio::awaitable<void> shutdown();

 private:
  struct Child {
    std::string id;
    pid_t pid = -1;
    std::uint16_t port = 0;
    std::string state;  // starting, up, stopping
    bool stop_on_purpose = false;
    std::chrono::steady_clock::time_point started;
    std::unique_ptr<boost::asio::posix::stream_descriptor> out;
    std::deque<std::string> last_lines;  // its output, the newest kKeptLines
  };
  static constexpr std::size_t kKeptLines = 200;
  // Adds a child that reported "listening on WHERE" to the front door.
  bool instance_ready(Child& c, const std::string& where);

  void spawn_one();
  void on_sigchld();
  void wait_for_sigchld();
  void reap(pid_t pid, int status);
  static boost::asio::awaitable<void> read_ready_line(Supervisor* self, pid_t pid);
  // Scale-in of one child: drain it in the front door (no new users, up to
  // config.drain_grace for in-flight requests and tunnels), then remove it
  // and SIGTERM it.
  static boost::asio::awaitable<void> drain_and_stop(Supervisor* self, pid_t pid);

  boost::asio::io_context& ctx_;
  const PlanConfig& config_;
  std::shared_ptr<front::InstanceTable> table_;
  std::string executable_;
  std::shared_ptr<spdlog::logger> log_;
  boost::asio::signal_set sigchld_;
  std::map<pid_t, Child> children_;
  unsigned target_ = 0;
  unsigned restarts_ = 0;
  bool shutting_down_ = false;
  // Crash-loop guard: consecutive instances that died before becoming ready.
  unsigned early_deaths_ = 0;
};

}  // namespace tether::plan
