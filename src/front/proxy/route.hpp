#pragma once
// Private to src/front/proxy: the route phase, deciding which instance serves
// a request. Affinity first (a cookie naming an instance that still takes its
// pinned users), the sidecar's local routes next, then balancing over the
// instances not yet tried. Plain functions over headers and values: no I/O,
// compiled once.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include <boost/beast/http/fields.hpp>

#include "tether/front/affinity.hpp"
#include "tether/front/balancer.hpp"
#include "tether/front/config.hpp"
#include "tether/front/instance_table.hpp"
#include "tether/front/stats.hpp"
#include "../rebalancer.hpp"

namespace tether::front::proxy {

// The route phase's decision for one request.
struct RouteDecision {
  Instance* inst = nullptr;  // null: balancing must pick one
  bool pinned = false;       // chosen by a valid affinity cookie (or a local route)
  bool to_local = false;     // a sidecar route (RelayConfig::local_prefix): never balanced
  bool had_token = false;    // the request presented an affinity cookie
  bool pin_expired = false;  // ... that had expired (max_idle / max_life)
  bool rebalanced = false;   // its idle pin was moved to `inst` (pinned is false: a new cookie)
  Affinity::Pin pin;         // the pin that routed it, when pinned by cookie
};

// Decides by affinity and local routes. `local` is the sidecar's own
// instance (null when none); `now` is now_ms(), `wall_s` Unix seconds.
// Counts affinity_pinned / affinity_repinned / affinity_expired in `stats`
// and pinned_requests on the pinned instance. With rebalancing on, a pin
// idle for rebalance_idle may be moved by `rebalancer` (null: never):
// counted as affinity_rebalanced, the decision then names the new instance
// unpinned, so the response pins the client there. Never fails: an
// undecided request (inst null) goes to balancing.
RouteDecision route_by_affinity(const Affinity& affinity, const InstanceSnapshot& snap,
                                const boost::beast::http::fields& req, std::string_view target,
                                const RelayConfig& relay, Instance* local, std::int64_t now,
                                std::int64_t wall_s, FrontStats& stats,
                                Rebalancer* rebalancer = nullptr);

// The instances one request has tried, excluded from the next pick (the
// first 16), and how many attempts were made: counted apart, so
// connect_attempts above 16 still ends (issue 13).
class TriedInstances {
 public:
  void add(Instance* i) {
    if (n_ < tried_.size()) tried_[n_++] = i;
    ++attempts_;
  }
  std::span<Instance* const> excluded() const { return {tried_.data(), n_}; }
  bool none() const { return n_ == 0; }
  std::uint32_t attempts() const { return attempts_; }

 private:
  std::array<Instance*, 16> tried_{};
  std::size_t n_ = 0;
  std::uint32_t attempts_ = 0;
};

// Balancing: an instance of `snap` that takes new users and was not tried,
// or null.
inline Instance* balance(Balancer& balancer, const InstanceSnapshot& snap, std::int64_t now,
                         const TriedInstances& tried) {
  return balancer.pick(snap, now, tried.excluded());
}

// Unix seconds, the clock of timed affinity cookies (every replica reads
// them alike).
std::int64_t wall_seconds();

}  // namespace tether::front::proxy
