#include "tether/front/stats.hpp"

namespace tether::front {

std::size_t detail::counter_slot() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t slot = next.fetch_add(1, std::memory_order_relaxed);
  return slot;
}

void LatencyHistogram::observe(std::chrono::microseconds d) {
  double ms = static_cast<double>(d.count()) / 1000.0;
  std::size_t i = 0;
  while (i < kBoundsMs.size() && ms > kBoundsMs[i]) ++i;
  buckets[i].fetch_add(1, std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
  sum_us.fetch_add(static_cast<std::uint64_t>(d.count()), std::memory_order_relaxed);
}

void FrontStats::count_status(unsigned status) {
  auto& c = status < 200   ? responses_1xx
            : status < 300 ? responses_2xx
            : status < 400 ? responses_3xx
            : status < 500 ? responses_4xx
                           : responses_5xx;
  c.fetch_add(1, std::memory_order_relaxed);
}

boost::json::object FrontStats::to_json() const {
  auto v = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  boost::json::object o;
  o["connections_accepted"] = v(connections_accepted);
  o["connections_open"] = v(connections_open);
  o["connections_refused"] = v(connections_refused);
  o["requests"] = v(requests);
  o["requests_refused"] = v(requests_refused);
  o["responses_1xx"] = v(responses_1xx);
  o["responses_2xx"] = v(responses_2xx);
  o["responses_3xx"] = v(responses_3xx);
  o["responses_4xx"] = v(responses_4xx);
  o["responses_5xx"] = v(responses_5xx);
  o["upstream_connects"] = v(upstream_connects);
  o["upstream_reuses"] = v(upstream_reuses);
  o["upstream_connect_failures"] = v(upstream_connect_failures);
  o["retries"] = v(retries);
  o["affinity_pinned"] = v(affinity_pinned);
  o["affinity_repinned"] = v(affinity_repinned);
  o["affinity_expired"] = v(affinity_expired);
  o["affinity_rebalanced"] = v(affinity_rebalanced);
  o["queued"] = v(queued);
  o["affinity_cookies_set"] = v(affinity_cookies_set);
  o["affinity_opt_outs"] = v(affinity_opt_outs);
  o["tunnels_open"] = v(tunnels_open);
  o["tunnels_total"] = v(tunnels_total);
  o["tunnel_idle_timeouts"] = v(tunnel_idle_timeouts);
  o["client_departures"] = v(client_departures);
  o["health_transitions"] = v(health_transitions);
  o["tls_handshake_failures"] = v(tls_handshake_failures);
  o["h2_connections"] = v(h2_connections);
  o["h2_streams"] = v(h2_streams);
  o["h2_streams_reset"] = v(h2_streams_reset);
  o["h2_goaways"] = v(h2_goaways);
  return o;
}

}  // namespace tether::front
