// Balancers from make_balancer(): round-robin, least-requests, power-of-two,
// on hand-built snapshots and a fixed "now" (no clock, no sockets).
#include "tether/front/balancer.hpp"

#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace tether::front {
namespace {

constexpr std::int64_t kNow = 1'000'000;

InstanceSnapshot make_snapshot(int n) {
  InstanceSnapshot snap;
  snap.version = 1;
  for (int i = 0; i < n; ++i) {
    auto id = "i" + std::to_string(i);
    auto inst = std::make_shared<Instance>(
        id, id, "127.0.0.1:" + std::to_string(9000 + i),
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                       static_cast<unsigned short>(9000 + i)));
    snap.by_token.emplace(id, inst.get());
    snap.instances.push_back(std::move(inst));
  }
  return snap;
}

Instance* at(const InstanceSnapshot& s, std::size_t i) { return s.instances[i].get(); }

const std::vector<Balancing> kAll = {Balancing::least_requests, Balancing::round_robin,
                                     Balancing::power_of_two};

TEST(Eligible, TakesNewAndNotExcluded) {
  auto s = make_snapshot(2);
  std::vector<Instance*> none;
  EXPECT_TRUE(eligible(*at(s, 0), kNow, none));
  std::vector<Instance*> ex{at(s, 0)};
  EXPECT_FALSE(eligible(*at(s, 0), kNow, ex));
  EXPECT_TRUE(eligible(*at(s, 1), kNow, ex));
  at(s, 1)->draining = true;
  EXPECT_FALSE(eligible(*at(s, 1), kNow, none));
}

TEST(Eligible, DownUntilIsExclusiveOfNow) {
  auto s = make_snapshot(1);
  std::vector<Instance*> none;
  at(s, 0)->down_until = kNow + 1;
  EXPECT_FALSE(eligible(*at(s, 0), kNow, none));
  at(s, 0)->down_until = kNow;
  EXPECT_TRUE(eligible(*at(s, 0), kNow, none));
}

TEST(Instance, DrainingTakesPinnedButNotNew) {
  auto s = make_snapshot(1);
  at(s, 0)->draining = true;
  EXPECT_FALSE(at(s, 0)->takes_new(kNow));
  EXPECT_TRUE(at(s, 0)->takes_pinned(kNow));
  at(s, 0)->down_until = kNow + 10;
  EXPECT_FALSE(at(s, 0)->takes_pinned(kNow));
}

// --- every algorithm -------------------------------------------------------

class AnyBalancer : public ::testing::TestWithParam<Balancing> {};

TEST_P(AnyBalancer, EmptySnapshotGivesNull) {
  auto b = make_balancer(GetParam());
  InstanceSnapshot empty;
  EXPECT_EQ(b->pick(empty, kNow, {}), nullptr);
}

TEST_P(AnyBalancer, NullWhenNoneEligible) {
  auto b = make_balancer(GetParam());
  auto s = make_snapshot(3);
  at(s, 0)->draining = true;
  at(s, 1)->down_until = kNow + 5'000;
  std::vector<Instance*> ex{at(s, 2)};
  for (int k = 0; k < 20; ++k) EXPECT_EQ(b->pick(s, kNow, ex), nullptr);
}

TEST_P(AnyBalancer, NeverReturnsIneligible) {
  auto b = make_balancer(GetParam());
  auto s = make_snapshot(6);
  at(s, 0)->draining = true;
  at(s, 2)->down_until = kNow + 1;
  std::vector<Instance*> ex{at(s, 4)};
  std::map<Instance*, int> hits;
  for (int k = 0; k < 300; ++k) {
    Instance* p = b->pick(s, kNow, ex);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(eligible(*p, kNow, ex)) << p->id;
    ++hits[p];
  }
  EXPECT_EQ(hits.count(at(s, 0)), 0u);
  EXPECT_EQ(hits.count(at(s, 2)), 0u);
  EXPECT_EQ(hits.count(at(s, 4)), 0u);
  // Idle eligible instances all get traffic.
  EXPECT_GT(hits[at(s, 1)], 0);
  EXPECT_GT(hits[at(s, 3)], 0);
  EXPECT_GT(hits[at(s, 5)], 0);
}

TEST_P(AnyBalancer, SingleEligibleIsAlwaysPicked) {
  auto b = make_balancer(GetParam());
  auto s = make_snapshot(5);
  for (int i : {0, 1, 3, 4}) at(s, static_cast<std::size_t>(i))->draining = true;
  at(s, 2)->outstanding = 50;
  for (int k = 0; k < 50; ++k) EXPECT_EQ(b->pick(s, kNow, {}), at(s, 2));
}

TEST_P(AnyBalancer, DownExpiresAtNow) {
  auto b = make_balancer(GetParam());
  auto s = make_snapshot(1);
  at(s, 0)->down_until = kNow + 100;
  EXPECT_EQ(b->pick(s, kNow, {}), nullptr);
  EXPECT_EQ(b->pick(s, kNow + 100, {}), at(s, 0));
}

INSTANTIATE_TEST_SUITE_P(Balancers, AnyBalancer, ::testing::ValuesIn(kAll),
                         [](const auto& info) {
                           std::string n = to_string(info.param);
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// --- round-robin -------------------------------------------------------------

TEST(RoundRobin, CyclesInOrder) {
  auto b = make_balancer(Balancing::round_robin);
  auto s = make_snapshot(3);
  std::vector<Instance*> got;
  for (int k = 0; k < 6; ++k) got.push_back(b->pick(s, kNow, {}));
  EXPECT_EQ(got, (std::vector<Instance*>{at(s, 0), at(s, 1), at(s, 2), at(s, 0), at(s, 1),
                                         at(s, 2)}));
}

TEST(RoundRobin, IgnoresOutstanding) {
  auto b = make_balancer(Balancing::round_robin);
  auto s = make_snapshot(2);
  at(s, 0)->outstanding = 100;
  EXPECT_EQ(b->pick(s, kNow, {}), at(s, 0));
  EXPECT_EQ(b->pick(s, kNow, {}), at(s, 1));
}

TEST(RoundRobin, SkipsIneligibleToNext) {
  auto b = make_balancer(Balancing::round_robin);
  auto s = make_snapshot(3);
  at(s, 1)->draining = true;
  std::vector<Instance*> got;
  for (int k = 0; k < 4; ++k) got.push_back(b->pick(s, kNow, {}));
  for (auto* p : got) EXPECT_NE(p, at(s, 1));
  EXPECT_EQ(got[0], at(s, 0));
  EXPECT_EQ(got[1], at(s, 2));  // turn of 1 falls through to 2
  EXPECT_EQ(got[2], at(s, 2));
  EXPECT_EQ(got[3], at(s, 0));
}

TEST(RoundRobin, SkipsExcluded) {
  auto b = make_balancer(Balancing::round_robin);
  auto s = make_snapshot(2);
  std::vector<Instance*> ex{at(s, 0)};
  for (int k = 0; k < 4; ++k) EXPECT_EQ(b->pick(s, kNow, ex), at(s, 1));
}

// --- least-requests ----------------------------------------------------------

TEST(LeastRequests, PicksFewestOutstanding) {
  auto b = make_balancer(Balancing::least_requests);
  auto s = make_snapshot(4);
  at(s, 0)->outstanding = 3;
  at(s, 1)->outstanding = 2;
  at(s, 2)->outstanding = 1;
  at(s, 3)->outstanding = 4;
  for (int k = 0; k < 8; ++k) EXPECT_EQ(b->pick(s, kNow, {}), at(s, 2));
}

TEST(LeastRequests, RotatesAmongIdleTies) {
  auto b = make_balancer(Balancing::least_requests);
  auto s = make_snapshot(3);
  std::map<Instance*, int> hits;
  for (int k = 0; k < 3; ++k) ++hits[b->pick(s, kNow, {})];
  EXPECT_EQ(hits.size(), 3u);
  for (auto& [inst, n] : hits) EXPECT_EQ(n, 1) << inst->id;
}

TEST(LeastRequests, RotatesAmongLoadedTiesOnly) {
  auto b = make_balancer(Balancing::least_requests);
  auto s = make_snapshot(4);
  at(s, 0)->outstanding = 1;
  at(s, 1)->outstanding = 5;
  at(s, 2)->outstanding = 1;
  at(s, 3)->outstanding = 9;
  std::map<Instance*, int> hits;
  for (int k = 0; k < 8; ++k) ++hits[b->pick(s, kNow, {})];
  EXPECT_EQ(hits.size(), 2u);
  EXPECT_GT(hits[at(s, 0)], 0);
  EXPECT_GT(hits[at(s, 2)], 0);
}

TEST(LeastRequests, SkipsExcludedEvenIfIdlest) {
  auto b = make_balancer(Balancing::least_requests);
  auto s = make_snapshot(3);
  at(s, 0)->outstanding = 0;
  at(s, 1)->outstanding = 7;
  at(s, 2)->outstanding = 3;
  std::vector<Instance*> ex{at(s, 0)};
  for (int k = 0; k < 6; ++k) EXPECT_EQ(b->pick(s, kNow, ex), at(s, 2));
}

TEST(LeastRequests, SkipsDrainingAndDownEvenIfIdlest) {
  auto b = make_balancer(Balancing::least_requests);
  auto s = make_snapshot(3);
  at(s, 0)->draining = true;
  at(s, 1)->down_until = kNow + 1;
  at(s, 2)->outstanding = 40;
  for (int k = 0; k < 6; ++k) EXPECT_EQ(b->pick(s, kNow, {}), at(s, 2));
}

TEST(LeastRequests, FollowsOutstandingAsItChanges) {
  auto b = make_balancer(Balancing::least_requests);
  auto s = make_snapshot(2);
  // Simulate in-flight requests: each pick keeps its request open.
  for (int k = 0; k < 10; ++k) b->pick(s, kNow, {})->outstanding++;
  EXPECT_EQ(at(s, 0)->outstanding.load(), 5);
  EXPECT_EQ(at(s, 1)->outstanding.load(), 5);
}

// --- power-of-two ------------------------------------------------------------

TEST(PowerOfTwo, PrefersLowerOutstandingOfTwoEligible) {
  auto b = make_balancer(Balancing::power_of_two);
  auto s = make_snapshot(4);
  at(s, 0)->draining = true;
  at(s, 1)->outstanding = 5;
  at(s, 2)->down_until = kNow + 1;
  at(s, 3)->outstanding = 0;
  int wrong = 0;
  for (int k = 0; k < 1000; ++k) {
    Instance* p = b->pick(s, kNow, {});
    ASSERT_TRUE(p == at(s, 1) || p == at(s, 3));
    if (p != at(s, 3)) ++wrong;
  }
  EXPECT_EQ(wrong, 0) << "picked the busier of the only two eligible instances";
}

TEST(PowerOfTwo, PrefersLowerOutstandingOfTwoInstances) {
  auto b = make_balancer(Balancing::power_of_two);
  auto s = make_snapshot(2);
  at(s, 0)->outstanding = 2;
  at(s, 1)->outstanding = 1;
  int wrong = 0;
  for (int k = 0; k < 1000; ++k)
    if (b->pick(s, kNow, {}) != at(s, 1)) ++wrong;
  EXPECT_EQ(wrong, 0) << "picked the busier of two instances";
}

}  // namespace
}  // namespace tether::front
