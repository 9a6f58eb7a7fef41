#pragma once
// Private to src/front: rebalancing of idle pins (issue 15; seeds 001/003:
// a browser left open stays pinned for days and the instances fall out of
// balance). No I/O and no clock of its own: the route phase asks it about
// one request, giving the time, and it reads the instances' request counters.
//
// The model. An instance's load is its request rate over the last `window`
// (from Instance::requests, sampled as requests arrive). A request pinned to
// an instance whose load is above the mean of the instances that take new
// users by more than `tolerance`, by a pin idle for at least rebalance_idle
// seconds, may move: to the least-loaded instance below the mean that takes
// new users and keeps portable sessions, when the move brings the two closer.
// The moved client's rate is estimated as one request per idle period, and
// that estimate is booked against both instances at once (and kept until the
// window has seen the client's new requests), so a burst of returning
// clients is spread instead of all landing on the one instance that looked
// emptiest. Only idle pins move: a client in the middle of something is
// never moved, and the move happens between two of its requests.
//
// Thread-safe (one mutex): it is asked only about idle pins of portable
// instances while rebalancing is on, never on the ordinary request path.
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tether/front/instance_table.hpp"

namespace tether::front {

class Rebalancer {
 public:
  // `window_ms`: loads are request rates over this long. `tolerance`: an
  // instance above mean * (1 + tolerance) sheds idle pins.
  explicit Rebalancer(std::int64_t window_ms = 10'000, double tolerance = 0.10);

  // A request pinned to `from` (in `snap`) by a pin idle for `idle_s`
  // seconds arrives at `now` (now_ms()). Returns the instance to move the
  // client to, or null to keep it pinned. A candidate takes new users and is
  // portable (Instance::portable, or every instance when `all_portable`);
  // `from` must be portable too. Counts rebalanced_out / rebalanced_in on
  // the two instances when it moves one. May run concurrently.
  Instance* move(const InstanceSnapshot& snap, Instance& from, std::int64_t idle_s,
                 std::int64_t now, bool all_portable);

 private:
  struct Booked {
    std::int64_t until;  // now_ms() after which the window shows the move
    double rate;         // + on the instance moved to, - on the one left
  };
  struct Track {
    std::deque<std::pair<std::int64_t, std::uint64_t>> samples;  // (now, requests)
    std::deque<Booked> booked;
    double booked_sum = 0;
    std::int64_t last_seen = 0;
  };

  // Samples `inst`'s counter (at most every window/10) and returns its load.
  double load_of(const Instance& inst, std::int64_t now);
  void forget_stale(std::int64_t now);

  const std::int64_t window_ms_;
  const double tolerance_;
  std::mutex mutex_;
  std::unordered_map<std::string, Track> tracks_;  // by instance id
  std::int64_t last_forget_ = 0;
};

}  // namespace tether::front
