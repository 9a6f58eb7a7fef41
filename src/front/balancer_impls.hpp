#pragma once
// The balancing algorithms (private to src/front; use make_balancer()).
#include <atomic>

#include "tether/front/balancer.hpp"

namespace tether::front {

// Instances in turn (HAProxy `balance roundrobin`).
class RoundRobinBalancer final : public Balancer {
 public:
  Instance* pick(const InstanceSnapshot& snap, std::int64_t now,
                 std::span<Instance* const> excluded) override;

 private:
  std::atomic<std::uint64_t> next_{0};
};

// Fewest requests in flight; ties broken by a rotating start so that idle
// instances share sequential traffic (App Service's LeastRequests, HAProxy
// `leastconn`).
class LeastRequestsBalancer final : public Balancer {
 public:
  Instance* pick(const InstanceSnapshot& snap, std::int64_t now,
                 std::span<Instance* const> excluded) override;

 private:
  std::atomic<std::uint64_t> start_{0};
};

// Two instances drawn at random, the one with fewer requests in flight wins
// (HAProxy `balance random(2)`).
class PowerOfTwoBalancer final : public Balancer {
 public:
  Instance* pick(const InstanceSnapshot& snap, std::int64_t now,
                 std::span<Instance* const> excluded) override;
};

}  // namespace tether::front
