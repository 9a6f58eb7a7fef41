#include "tether/front/balancer.hpp"

#include <algorithm>

#include "balancer_impls.hpp"

namespace tether::front {

bool eligible(const Instance& i, std::int64_t now, std::span<Instance* const> excluded) {
  if (!i.takes_new(now)) return false;
  return std::find(excluded.begin(), excluded.end(), &i) == excluded.end();
}

std::unique_ptr<Balancer> make_balancer(Balancing algorithm) {
  switch (algorithm) {
    case Balancing::round_robin: return std::make_unique<RoundRobinBalancer>();
    case Balancing::power_of_two: return std::make_unique<PowerOfTwoBalancer>();
    case Balancing::least_requests: break;
  }
  return std::make_unique<LeastRequestsBalancer>();
}

}  // namespace tether::front
