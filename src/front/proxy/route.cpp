#include "route.hpp"

#include <chrono>

namespace tether::front::proxy {

RouteDecision route_by_affinity(const Affinity& affinity, const InstanceSnapshot& snap,
                                const boost::beast::http::fields& req, std::string_view target,
                                const RelayConfig& relay, Instance* local, std::int64_t now,
                                std::int64_t wall_s, FrontStats& stats, Rebalancer* rebalancer) {
  RouteDecision d;
  for (const auto& p : affinity.request_pins(req, wall_s)) {
    d.had_token = true;
    if (p.expired) {
      d.pin_expired = true;
      continue;
    }
    if (Instance* i = snap.find_token(p.token); i && i->takes_pinned(now)) {
      if (rebalancer && affinity.idle_for_rebalance(p, wall_s))
        if (Instance* to = rebalancer->move(snap, *i, wall_s - p.last_s, now,
                                            affinity.config().sessions_portable)) {
          d.inst = to;
          d.rebalanced = true;
          stats.affinity_rebalanced.fetch_add(1, std::memory_order_relaxed);
          break;
        }
      d.inst = i;
      d.pinned = true;
      d.pin = p;
      i->pinned_requests.fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  // The sidecar's own routes (RelayConfig::local_prefix): no balancing.
  d.to_local = local && target.starts_with(relay.local_prefix);
  if (d.to_local) {
    d.inst = local;
    d.pinned = true;
  }
  if (d.pinned)
    stats.affinity_pinned.fetch_add(1, std::memory_order_relaxed);
  else if (d.had_token && !d.rebalanced)
    stats.affinity_repinned.fetch_add(1, std::memory_order_relaxed);
  if (!d.pinned && d.pin_expired) stats.affinity_expired.fetch_add(1, std::memory_order_relaxed);
  return d;
}

std::int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tether::front::proxy
