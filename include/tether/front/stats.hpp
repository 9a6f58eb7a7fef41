#pragma once
// Counters operators (and tests) read from the front door. Relaxed atomics:
// each is exact, the set is not a consistent snapshot.
#include <atomic>
#include <cstdint>

#include <boost/json/object.hpp>

namespace tether::front {

struct FrontStats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_refused{0};  // over max_connections
  std::atomic<std::uint64_t> requests{0};             // requests read from clients
  std::atomic<std::uint64_t> responses_1xx{0}, responses_2xx{0}, responses_3xx{0},
      responses_4xx{0}, responses_5xx{0};
  std::atomic<std::uint64_t> upstream_connects{0};          // new upstream connections
  std::atomic<std::uint64_t> upstream_reuses{0};            // requests on pooled connections
  std::atomic<std::uint64_t> upstream_connect_failures{0};
  std::atomic<std::uint64_t> retries{0};                    // requests re-sent after a failure
  std::atomic<std::uint64_t> affinity_pinned{0};            // routed by a valid cookie
  std::atomic<std::uint64_t> affinity_repinned{0};          // cookie named a gone/down instance
  std::atomic<std::uint64_t> affinity_cookies_set{0};
  std::atomic<std::uint64_t> affinity_opt_outs{0};
  std::atomic<std::int64_t> tunnels_open{0};           // WebSocket tunnels now
  std::atomic<std::uint64_t> tunnels_total{0};
  std::atomic<std::uint64_t> tunnel_idle_timeouts{0};

  void count_status(unsigned status);
  boost::json::object to_json() const;
};

}  // namespace tether::front
