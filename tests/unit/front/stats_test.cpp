// front/stats.hpp: the counters every request adds to, one slot per thread
// (ShardedCounter), and FrontStats reading them back.
#include "tether/front/stats.hpp"

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tether::front {
namespace {

// More threads than slots, all adding at once: shared slots stay exact.
TEST(ShardedCounter, ThreadsAddingAtOnceSumExactly) {
  ShardedCounter<std::uint64_t> c;
  constexpr std::uint64_t kThreads = ShardedCounter<std::uint64_t>::kSlots + 4;
  constexpr std::uint64_t kAdds = 20000;
  std::vector<std::thread> threads;
  for (std::uint64_t t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (std::uint64_t i = 0; i < kAdds; ++i) c.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.load(), kThreads * kAdds);
  c.fetch_sub(5);
  EXPECT_EQ(c.load(), kThreads * kAdds - 5);
}

// What the sharding is for: two threads (two workers) never write the same
// cache line.
TEST(ShardedCounter, TwoThreadsWriteDifferentCacheLines) {
  std::size_t a = 0, b = 0;
  std::thread([&] { a = detail::counter_slot(); }).join();
  std::thread([&] { b = detail::counter_slot(); }).join();
  EXPECT_NE(a % ShardedCounter<std::uint64_t>::kSlots, b % ShardedCounter<std::uint64_t>::kSlots);
  EXPECT_EQ(sizeof(ShardedCounter<std::uint64_t>), ShardedCounter<std::uint64_t>::kSlots * 64);
}

TEST(FrontStats, ShardedCountersReadBackInJson) {
  FrontStats s;
  std::thread([&] {
    s.requests.fetch_add(2, std::memory_order_relaxed);
    s.count_status(204);
  }).join();
  s.requests.fetch_add(1, std::memory_order_relaxed);
  s.count_status(503);
  s.latency.observe(std::chrono::milliseconds(3));
  const auto j = s.to_json();
  EXPECT_EQ(j.at("requests").to_number<std::uint64_t>(), 3u);
  EXPECT_EQ(j.at("responses_2xx").to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(j.at("responses_5xx").to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(s.latency.count.load(), 1u);
  EXPECT_EQ(s.latency.sum_us.load(), 3000u);
  EXPECT_EQ(s.latency.buckets[3].load(), 1u);  // 2.5 < 3 <= 5 ms
}

}  // namespace
}  // namespace tether::front
