#pragma once
// The plan's view of its instances' mesh, for `tether status` and the
// dashboard: every second, each routed instance's GET /.tether/mesh/status
// (loopback, direct to the instance), folded into the hub, the epoch, each
// member's role, messages per second, and the last elections. Polled on its
// own thread with a blocking client, never on the plan's I/O thread.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "tether/front/instance_table.hpp"

namespace tether::plan {

class MeshWatch {
 public:
  // Polls every instance of `table` each `interval` on its own thread; an
  // interval of zero starts no thread (the caller drives fold(), as tests do).
  explicit MeshWatch(std::shared_ptr<front::InstanceTable> table,
                     std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~MeshWatch();
  MeshWatch(const MeshWatch&) = delete;
  MeshWatch& operator=(const MeshWatch&) = delete;

  // {hub, epoch, messages_per_second, members:[{id, role, epoch, members,
  // published, delivered, unacked}], elections:[{epoch, hub, at_ms}]}, or
  // null when no instance runs a mesh.
  boost::json::value status() const;

  // Folds one round of instance statuses (id -> its /.tether/mesh/status,
  // or null when unreachable) taken at `now_ms`: the part tests drive.
  void fold(const std::vector<std::pair<std::string, boost::json::value>>& round,
            std::int64_t now_ms);

 private:
  void run();
  std::shared_ptr<front::InstanceTable> table_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  boost::json::value view_;  // null until a mesh is seen
  std::deque<boost::json::object> elections_;
  std::int64_t last_epoch_ = 0;
  std::uint64_t last_delivered_ = 0;
  std::int64_t last_ms_ = 0;
  std::thread thread_;
};

}  // namespace tether::plan
