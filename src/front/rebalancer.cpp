#include "rebalancer.hpp"

#include <algorithm>
#include <cmath>

namespace tether::front {

namespace {
// At most this many moves are booked per instance; older bookings go first.
constexpr std::size_t kMaxBooked = 4096;
}  // namespace

Rebalancer::Rebalancer(std::int64_t window_ms, double tolerance)
    : window_ms_(std::max<std::int64_t>(window_ms, 1'000)), tolerance_(tolerance) {}

double Rebalancer::load_of(const Instance& inst, std::int64_t now) {
  Track& t = tracks_[inst.id];
  t.last_seen = now;
  const std::uint64_t count = inst.requests.load(std::memory_order_relaxed);
  // A replaced instance (same id, a new process) counts from zero again.
  if (!t.samples.empty() && count < t.samples.back().second) t.samples.clear();
  if (t.samples.empty() || now - t.samples.back().first >= window_ms_ / 10)
    t.samples.emplace_back(now, count);
  while (t.samples.size() >= 2 && t.samples[1].first <= now - window_ms_) t.samples.pop_front();
  while (!t.booked.empty() && t.booked.front().until <= now) {
    t.booked_sum -= t.booked.front().rate;
    t.booked.pop_front();
  }
  if (t.booked.empty()) t.booked_sum = 0;  // no drift from rounding
  const std::int64_t span = now - t.samples.front().first;
  if (span < 1'000) return std::nan("");  // not measured long enough
  const double rate =
      static_cast<double>(count - t.samples.front().second) * 1000.0 / static_cast<double>(span);
  return std::max(0.0, rate + t.booked_sum);
}

void Rebalancer::forget_stale(std::int64_t now) {
  if (now - last_forget_ < window_ms_) return;
  last_forget_ = now;
  for (auto it = tracks_.begin(); it != tracks_.end();)
    it = now - it->second.last_seen > 6 * window_ms_ ? tracks_.erase(it) : std::next(it);
}

Instance* Rebalancer::move(const InstanceSnapshot& snap, Instance& from, std::int64_t idle_s,
                           std::int64_t now, bool all_portable) {
  auto portable = [all_portable](const Instance& i) {
    return all_portable || i.portable.load(std::memory_order_relaxed);
  };
  if (!portable(from)) return nullptr;
  std::lock_guard lock(mutex_);
  forget_stale(now);
  const double from_load = load_of(from, now);
  double sum = 0;
  int n = 0;
  Instance* best = nullptr;
  double best_load = 0;
  bool unknown = std::isnan(from_load);
  for (const auto& p : snap.instances) {
    Instance& i = *p;
    if (&i == &from) {
      if (i.takes_new(now)) {
        sum += from_load;
        ++n;
      }
      continue;
    }
    const double l = load_of(i, now);
    if (!i.takes_new(now)) continue;
    if (std::isnan(l)) {
      unknown = true;
      continue;
    }
    sum += l;
    ++n;
    if (portable(i) && (!best || l < best_load)) {
      best = &i;
      best_load = l;
    }
  }
  if (unknown || !best || n == 0) return nullptr;
  const double mean = sum / n;
  const double rate = 1.0 / static_cast<double>(std::max<std::int64_t>(idle_s, 1));
  // A draining instance sheds its idle pins whatever the loads; any other
  // only while above the mean, toward one below it, and only when the move
  // brings the two closer instead of swapping which one is loaded.
  if (from.takes_new(now) && (from_load <= mean * (1.0 + tolerance_) || best_load >= mean ||
                              best_load + rate > from_load - rate))
    return nullptr;

  const std::int64_t until = now + window_ms_ + std::max<std::int64_t>(idle_s, 1) * 1000;
  auto book = [&](const Instance& i, double r) {
    Track& t = tracks_[i.id];
    if (t.booked.size() >= kMaxBooked) {
      t.booked_sum -= t.booked.front().rate;
      t.booked.pop_front();
    }
    t.booked.push_back({until, r});
    t.booked_sum += r;
  };
  book(from, -rate);
  book(*best, rate);
  from.rebalanced_out.fetch_add(1, std::memory_order_relaxed);
  best->rebalanced_in.fetch_add(1, std::memory_order_relaxed);
  return best;
}

}  // namespace tether::front
