#pragma once
// Counters operators (and tests) read from the front door. Relaxed atomics:
// each is exact, the set is not a consistent snapshot.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include <boost/json/object.hpp>

namespace tether::front {

// Request latency (first header byte read -> last response byte written),
// in Prometheus-style cumulative buckets.
struct LatencyHistogram {
  static constexpr std::array<double, 14> kBoundsMs{0.5, 1,   2.5,  5,    10,   25,   50,
                                                    100, 250, 500,  1000, 2500, 5000, 10000};
  std::array<std::atomic<std::uint64_t>, kBoundsMs.size() + 1> buckets{};  // last: +Inf
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> sum_us{0};

  void observe(std::chrono::microseconds d);
};

struct FrontStats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_refused{0};  // over max_connections
  std::atomic<std::uint64_t> requests{0};             // requests read from clients
  std::atomic<std::uint64_t> requests_refused{0};     // refused by the request rules (RFC 9112)
  std::atomic<std::uint64_t> responses_1xx{0}, responses_2xx{0}, responses_3xx{0},
      responses_4xx{0}, responses_5xx{0};
  std::atomic<std::uint64_t> upstream_connects{0};          // new upstream connections
  std::atomic<std::uint64_t> upstream_reuses{0};            // requests on pooled connections
  std::atomic<std::uint64_t> upstream_connect_failures{0};
  std::atomic<std::uint64_t> retries{0};                    // requests re-sent after a failure
  std::atomic<std::uint64_t> affinity_pinned{0};            // routed by a valid cookie
  std::atomic<std::uint64_t> affinity_repinned{0};          // cookie named a gone/down instance
  std::atomic<std::uint64_t> affinity_rebalanced{0};  // idle pins moved to a less-loaded instance
  std::atomic<std::uint64_t> affinity_expired{0};     // pin idle/old past max_idle/max_life
  std::atomic<std::uint64_t> queued{0};  // waited (timeouts.queue) for an instance to take traffic
  std::atomic<std::uint64_t> affinity_cookies_set{0};
  std::atomic<std::uint64_t> affinity_opt_outs{0};
  std::atomic<std::int64_t> tunnels_open{0};           // WebSocket tunnels now
  std::atomic<std::uint64_t> tunnels_total{0};
  std::atomic<std::uint64_t> tunnel_idle_timeouts{0};
  std::atomic<std::uint64_t> h2_connections{0};     // HTTP/2 client connections
  std::atomic<std::uint64_t> h2_streams{0};         // HTTP/2 request streams
  std::atomic<std::uint64_t> h2_streams_reset{0};   // streams that ended with RST_STREAM
  std::atomic<std::uint64_t> h2_goaways{0};         // connections ended for misbehaving (GOAWAY)
  std::atomic<std::uint64_t> client_departures{0};  // clients gone mid streamed response
  std::atomic<std::uint64_t> health_transitions{0};
  std::atomic<std::uint64_t> tls_handshake_failures{0};  // instances changing health state

  LatencyHistogram latency;

  void count_status(unsigned status);
  boost::json::object to_json() const;
};

}  // namespace tether::front
