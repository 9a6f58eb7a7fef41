#pragma once
// Choosing an instance for a request that affinity did not decide. One
// interface, one file per algorithm (balancer_*.cpp), a factory here.
// Implementations are shared by all worker threads: pick() is thread-safe.
#include <memory>
#include <span>

#include "tether/front/config.hpp"
#include "tether/front/instance_table.hpp"

namespace tether::front {

class Balancer {
 public:
  virtual ~Balancer() = default;

  // An instance of `snap` that takes new users at `now` and is not in
  // `excluded` (instances already tried for this request), or nullptr when
  // there is none.
  virtual Instance* pick(const InstanceSnapshot& snap, std::int64_t now,
                         std::span<Instance* const> excluded) = 0;
};

std::unique_ptr<Balancer> make_balancer(Balancing algorithm);

// True when `i` takes new users and is not excluded. Shared by the algorithms.
bool eligible(const Instance& i, std::int64_t now, std::span<Instance* const> excluded);

}  // namespace tether::front
