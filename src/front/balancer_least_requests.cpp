#include "balancer_impls.hpp"

namespace tether::front {

Instance* LeastRequestsBalancer::pick(const InstanceSnapshot& snap, std::int64_t now,
                                      std::span<Instance* const> excluded) {
  const auto n = snap.instances.size();
  if (n == 0) return nullptr;
  auto start = start_.fetch_add(1, std::memory_order_relaxed);
  Instance* best = nullptr;
  int best_load = 0;
  for (std::size_t k = 0; k < n; ++k) {
    Instance* i = snap.instances[(start + k) % n].get();
    if (!eligible(*i, now, excluded)) continue;
    int load = i->outstanding.load(std::memory_order_relaxed);
    if (!best || load < best_load) {
      best = i;
      best_load = load;
    }
  }
  return best;
}

}  // namespace tether::front
