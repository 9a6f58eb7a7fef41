#include "balancer_impls.hpp"
#include "tether/net/random.hpp"

namespace tether::front {

Instance* PowerOfTwoBalancer::pick(const InstanceSnapshot& snap, std::int64_t now,
                                   std::span<Instance* const> excluded) {
  const auto n = snap.instances.size();
  if (n == 0) return nullptr;
  // Draw until two distinct eligible instances are found, bounded; with few
  // eligible instances fall back to a scan.
  Instance* first = nullptr;
  Instance* second = nullptr;
  for (std::size_t tries = 0; tries < 2 * n + 2 && !second; ++tries) {
    Instance* i = snap.instances[net::random_below(n)].get();
    if (i == first || !eligible(*i, now, excluded)) continue;
    (first ? second : first) = i;
  }
  if (!second) {
    // Few eligible instances: the draws may have missed them; scan instead.
    for (const auto& i : snap.instances) {
      if (i.get() == first || !eligible(*i, now, excluded)) continue;
      if (!first) first = i.get();
      else if (!second) second = i.get();
    }
  }
  if (!second) return first;
  return second->outstanding.load(std::memory_order_relaxed) <
                 first->outstanding.load(std::memory_order_relaxed)
             ? second
             : first;
}

}  // namespace tether::front
