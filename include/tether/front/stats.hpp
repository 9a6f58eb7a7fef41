#pragma once
// Counters operators (and tests) read from the front door. Relaxed atomics:
// each is exact, the set is not a consistent snapshot.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include <boost/json/object.hpp>

namespace tether::front {

namespace detail {
// This thread's slot in every ShardedCounter: the first threads to count
// get one each, in order (a front door's workers among them).
std::size_t counter_slot() noexcept;
}  // namespace detail

// A counter that every worker adds to on each request: one slot per thread,
// each on its own cache line, summed when read, so two workers never
// contend for one line (one shared atomic moved between the cores at every
// request). Past kSlots threads, slots are shared (still exact). Reads see
// each slot's value; like the relaxed atomics beside it, the sum is exact
// once writers are quiet, not a snapshot.
template <class T>
class ShardedCounter {
 public:
  static constexpr std::size_t kSlots = 16;
  // No previous value: it would need every slot (see connections_accepted
  // for a counter whose value is used).
  void fetch_add(T v, std::memory_order = std::memory_order_relaxed) noexcept {
    slots_[detail::counter_slot() % kSlots].value.fetch_add(v, std::memory_order_relaxed);
  }
  void fetch_sub(T v, std::memory_order = std::memory_order_relaxed) noexcept {
    slots_[detail::counter_slot() % kSlots].value.fetch_sub(v, std::memory_order_relaxed);
  }
  T load(std::memory_order = std::memory_order_relaxed) const noexcept {
    T sum = 0;
    for (const auto& s : slots_) sum += s.value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Slot {
    std::atomic<T> value{0};
  };
  std::array<Slot, kSlots> slots_{};
};

// Request latency (first header byte read -> last response byte written),
// in Prometheus-style cumulative buckets.
struct LatencyHistogram {
  static constexpr std::array<double, 14> kBoundsMs{0.5, 1,   2.5, 5,    10,   25,   50,
                                                    100, 250, 500, 1000, 2500, 5000, 10000};
  std::array<ShardedCounter<std::uint64_t>, kBoundsMs.size() + 1> buckets{};  // last: +Inf
  ShardedCounter<std::uint64_t> count;
  ShardedCounter<std::uint64_t> sum_us;

  void observe(std::chrono::microseconds d);
};

// The counters each request touches are sharded per thread (above); the
// others stay plain atomics.
struct FrontStats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_refused{0};  // over max_connections
  ShardedCounter<std::uint64_t> requests;             // requests read from clients
  std::atomic<std::uint64_t> requests_refused{0};     // refused by the request rules (RFC 9112)
  ShardedCounter<std::uint64_t> responses_1xx, responses_2xx, responses_3xx, responses_4xx,
      responses_5xx;
  std::atomic<std::uint64_t> upstream_connects{0};  // new upstream connections
  ShardedCounter<std::uint64_t> upstream_reuses;    // requests on pooled connections
  std::atomic<std::uint64_t> upstream_connect_failures{0};
  std::atomic<std::uint64_t> retries{0};              // requests re-sent after a failure
  ShardedCounter<std::uint64_t> affinity_pinned;      // routed by a valid cookie
  std::atomic<std::uint64_t> affinity_repinned{0};    // cookie named a gone/down instance
  std::atomic<std::uint64_t> affinity_rebalanced{0};  // idle pins moved to a less-loaded instance
  std::atomic<std::uint64_t> affinity_expired{0};     // pin idle/old past max_idle/max_life
  std::atomic<std::uint64_t> queued{0};  // waited (timeouts.queue) for an instance to take traffic
  ShardedCounter<std::uint64_t> affinity_cookies_set;
  std::atomic<std::uint64_t> affinity_opt_outs{0};
  std::atomic<std::int64_t> tunnels_open{0};  // WebSocket tunnels now
  std::atomic<std::uint64_t> tunnels_total{0};
  std::atomic<std::uint64_t> tunnel_idle_timeouts{0};
  std::atomic<std::uint64_t> h2_connections{0};     // HTTP/2 client connections
  ShardedCounter<std::uint64_t> h2_streams;         // HTTP/2 request streams
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
