// StreamDedup: exactly-once delivery per sender stream, with bounded memory
// (issue 13 defect: Member::last_seen_ grew by one entry per stream forever).
#include "tether/mesh/detail/stream_dedup.hpp"

#include <gtest/gtest.h>

namespace tether::mesh::detail {
namespace {

using namespace std::chrono_literals;

TEST(StreamDedup, DropsDuplicatesAndOlderMessagesPerStream) {
  StreamDedup d;
  EXPECT_TRUE(d.accept("a", 1, 0));
  EXPECT_TRUE(d.accept("a", 2, 0));
  EXPECT_FALSE(d.accept("a", 2, 0));  // a resend after failover
  EXPECT_FALSE(d.accept("a", 1, 0));
  EXPECT_TRUE(d.accept("b", 1, 0));   // streams are independent
  EXPECT_TRUE(d.accept("a", 5, 0));   // gaps are the sender's business
}

TEST(StreamDedup, ForgetsStreamsIdleLongerThanTheTtl) {
  // Scenario: 1,000 instances come and go over a day; the table holds only
  // the streams seen within idle_ttl, not one entry per stream ever.
  StreamDedup d(10min);
  std::int64_t now = 0;
  for (int i = 0; i < 1000; ++i) {
    d.accept("s" + std::to_string(i), 1, now);
    now += 60'000;  // one new stream a minute
  }
  EXPECT_LE(d.size(), 14u);  // the last ~10 minutes' streams (+ the prune period)
  EXPECT_GE(d.forgotten(), 986u);
  EXPECT_FALSE(d.accept("s999", 1, now));  // a recent one is still de-duplicated
}

TEST(StreamDedup, AnActiveStreamIsNeverForgottenWithinTheTtl) {
  StreamDedup d(10min);
  std::int64_t now = 0;
  for (int i = 1; i <= 100; ++i) {
    EXPECT_TRUE(d.accept("live", static_cast<std::uint64_t>(i), now));
    d.accept("other" + std::to_string(i), 1, now);  // churn that triggers pruning
    now += 5 * 60'000;
  }
  EXPECT_FALSE(d.accept("live", 100, now));
}

TEST(StreamDedup, MaxStreamsEvictsTheLeastRecentlySeen) {
  StreamDedup d(24h, 3);
  d.accept("a", 1, 1);
  d.accept("b", 1, 2);
  d.accept("c", 1, 3);
  d.accept("a", 2, 4);  // a is now the most recent
  d.accept("d", 1, 5);  // full: b goes
  EXPECT_EQ(d.size(), 3u);
  EXPECT_TRUE(d.accept("b", 1, 6));    // forgotten, so accepted again
  EXPECT_FALSE(d.accept("a", 2, 7));   // kept
}

}  // namespace
}  // namespace tether::mesh::detail
