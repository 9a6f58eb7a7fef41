#pragma once
// The instances the front door routes to, published as immutable snapshots.
// Writers (config load, the plan supervisor, the admin API) build a new
// snapshot under a mutex and publish it; the hot path reads the current one
// without locking (Pingora's ArcSwap pattern). Per-instance live state
// (outstanding requests, passive down-marking, drain) lives in atomics on the
// shared Instance objects, so it survives snapshot swaps.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "tether/front/config.hpp"

namespace tether::front {

// Milliseconds on the steady clock; the unit of every "now" in the front door.
std::int64_t now_ms();

struct Instance {
  Instance(std::string id, std::string token, std::string address,
           boost::asio::ip::tcp::endpoint endpoint);

  const std::string id;       // the instance's name (WEBSITE_INSTANCE_ID)
  const std::string token;    // affinity cookie value routing to it
  const std::string address;  // host:port as configured
  const boost::asio::ip::tcp::endpoint endpoint;  // resolved once when added

  std::atomic<int> outstanding{0};         // requests in flight
  std::atomic<std::int64_t> down_until{0};  // now_ms() before which it takes no traffic
  std::atomic<bool> draining{false};        // no new users; pinned users continue
  std::atomic<std::uint64_t> requests{0};   // requests forwarded (total)
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<int> tunnels{0};              // open WebSocket tunnels
  std::atomic<std::uint64_t> pinned_requests{0};  // routed here by a valid affinity cookie
  // Its app keeps sessions in a shared store (Tether-Session-Portable: true
  // on its last response saying either way): its idle pins may be rebalanced.
  std::atomic<bool> portable{false};
  std::atomic<std::uint64_t> rebalanced_out{0};           // idle pins moved away from it
  std::atomic<std::uint64_t> rebalanced_in{0};            // idle pins moved to it
  std::array<std::atomic<std::uint64_t>, 5> responses{};  // by class: [0]=1xx .. [4]=5xx

  // What the app said of its sessions (Tether-Session-Portable), if it said
  // anything; written only when it changes (responses and health checks).
  void note_portable(std::optional<bool> said) {
    if (said && portable.load(std::memory_order_relaxed) != *said)
      portable.store(*said, std::memory_order_relaxed);
  }

  void count_status(unsigned status) {
    auto c = status / 100;
    if (c >= 1 && c <= 5) responses[c - 1].fetch_add(1, std::memory_order_relaxed);
  }

  // Active health (front/health_checker.hpp). `in_rotation` is what routing
  // reads; only the checker writes these.
  enum Health : std::uint8_t { checking = 0, healthy = 1, failing = 2 };
  std::atomic<std::uint8_t> health{healthy};
  std::atomic<bool> in_rotation{true};
  std::atomic<std::uint64_t> health_transitions{0};
  int consecutive_ok = 0;    // checker thread only
  int consecutive_fail = 0;  // checker thread only
  std::int64_t last_check = 0;
  bool check_in_flight = false;

  // May take users chosen by balancing.
  bool takes_new(std::int64_t now) const {
    return !draining.load(std::memory_order_relaxed) && takes_pinned(now);
  }
  // May take users pinned to it by cookie (a draining instance still does).
  bool takes_pinned(std::int64_t now) const {
    return in_rotation.load(std::memory_order_relaxed) &&
           down_until.load(std::memory_order_relaxed) <= now;
  }
  // "up", "down", "draining", "checking", "unhealthy" or "failing" (failing
  // checks but kept in rotation by the max_unhealthy_share cap).
  const char* state_name(std::int64_t now) const;
};

struct InstanceSnapshot {
  std::uint64_t version = 0;
  std::vector<std::shared_ptr<Instance>> instances;          // in insertion order
  std::unordered_map<std::string, Instance*> by_token;       // cookie token -> instance

  Instance* find_token(std::string_view token) const;
};

class InstanceTable {
 public:
  explicit InstanceTable(TokenMode mode);

  // The token for an instance id under this table's TokenMode.
  std::string token_for(const std::string& id) const;

  // Adds (or replaces, by id) an instance at `address` ("host:port"; the
  // host is resolved now). A replaced instance starts with fresh live state
  // (it is a new process at that address). Throws std::invalid_argument for a
  // bad address.
  std::shared_ptr<Instance> add(const std::string& id, const std::string& address);

  // New instances start out of rotation until their first passing health
  // check (App Service checks new instances before they get traffic).
  void set_check_new_instances(bool on) { check_new_ = on; }

  // Removes the instance `id`; false when absent.
  bool remove(const std::string& id);

  // The current snapshot (never null).
  std::shared_ptr<const InstanceSnapshot> snapshot() const;

  // Cheap change detector for per-thread snapshot caches.
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

  std::shared_ptr<Instance> find(const std::string& id) const;

 private:
  void publish(std::vector<std::shared_ptr<Instance>> instances);

  TokenMode mode_;
  bool check_new_ = false;
  mutable std::mutex mutex_;
  std::shared_ptr<const InstanceSnapshot> current_;
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace tether::front
