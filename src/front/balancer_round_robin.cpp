#include "balancer_impls.hpp"

namespace tether::front {

Instance* RoundRobinBalancer::pick(const InstanceSnapshot& snap, std::int64_t now,
                                   std::span<Instance* const> excluded) {
  const auto n = snap.instances.size();
  if (n == 0) return nullptr;
  auto start = next_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t k = 0; k < n; ++k) {
    Instance* i = snap.instances[(start + k) % n].get();
    if (eligible(*i, now, excluded)) return i;
  }
  return nullptr;
}

}  // namespace tether::front
