// The rebalancer on a fake clock (issue 15, seeds 001/003): loads are the
// instances' request rates, only portable instances trade pins, only an
// instance above the mean sheds them, and a burst of returning clients is
// spread instead of herded onto the emptiest instance.
#include "front/rebalancer.hpp"

#include <map>

#include <gtest/gtest.h>

namespace tether::front {
namespace {

// A snapshot of `n` instances "i0".."i<n-1>", all portable.
struct Fleet {
  explicit Fleet(int n) {
    for (int k = 0; k < n; ++k) add();
  }
  Instance& add() {
    auto id = "i" + std::to_string(snap.instances.size());
    auto i = std::make_shared<Instance>(id, id, "127.0.0.1:1", boost::asio::ip::tcp::endpoint{});
    i->portable = true;
    snap.instances.push_back(i);
    snap.by_token[id] = i.get();
    return *i;
  }
  Instance& operator[](std::size_t k) { return *snap.instances[k]; }
  InstanceSnapshot snap;
};

// Each instance serves `rates[k]` requests per second for `ms` milliseconds
// of the fake clock, in steps of 100 ms. After each step a request pinned to
// the instance `probe` (one not above the mean: it is never moved) lets the
// rebalancer sample the counters.
void serve(Rebalancer& r, Fleet& f, const std::vector<int>& rates, std::size_t probe,
           std::int64_t& now, std::int64_t ms) {
  for (std::int64_t s = 1; s * 100 <= ms; ++s) {
    now += 100;
    for (std::size_t k = 0; k < rates.size(); ++k)
      f[k].requests += static_cast<std::uint64_t>(rates[k] * s / 10 - rates[k] * (s - 1) / 10);
    EXPECT_EQ(r.move(f.snap, f[probe], 60, now, false), nullptr);
  }
}

TEST(Rebalancer, MovesNothingUntilLoadsAreMeasured) {
  Fleet f(2);
  Rebalancer r;
  std::int64_t now = 1'000'000;
  f[0].requests = 1000;
  EXPECT_EQ(r.move(f.snap, f[0], 60, now, false), nullptr);
}

TEST(Rebalancer, AnOverloadedInstanceShedsToTheLeastLoaded) {
  Fleet f(3);
  Rebalancer r;
  std::int64_t now = 1'000'000;
  // i0 at 100 req/s, i1 at 50, i2 at 10: the mean is ~53; i1, near it, is
  // never moved (serve's probe).
  serve(r, f, {100, 50, 10}, 1, now, 2'000);
  EXPECT_EQ(f[1].rebalanced_out, 0u);
  Instance* to = r.move(f.snap, f[0], 60, now, false);
  ASSERT_NE(to, nullptr);
  EXPECT_EQ(to, &f[2]);
  EXPECT_EQ(f[0].rebalanced_out, 1u);
  EXPECT_EQ(f[2].rebalanced_in, 1u);
}

TEST(Rebalancer, OnlyPortableInstancesTradePins) {
  Fleet f(2);
  Rebalancer r;
  std::int64_t now = 1'000'000;
  serve(r, f, {100, 0}, 1, now, 3'000);
  f[0].portable = false;
  EXPECT_EQ(r.move(f.snap, f[0], 60, now, false), nullptr);
  f[0].portable = true;
  f[1].portable = false;
  EXPECT_EQ(r.move(f.snap, f[0], 60, now, false), nullptr);
  // The operator's word for every instance overrides the apps' silence.
  EXPECT_EQ(r.move(f.snap, f[0], 60, now, true), &f[1]);
}

TEST(Rebalancer, ABurstOfReturningClientsIsSpreadNotHerded) {
  // 100 clients, one request every second each, on i0 and i1 (50 req/s
  // each); i2 and i3 were just added. Every client comes back once, idle for
  // one second: about half of each old instance's clients move, to both new
  // ones alike, and no new instance ends up above an old one.
  Fleet f(4);
  Rebalancer r;
  std::int64_t now = 1'000'000;
  serve(r, f, {50, 50, 0, 0}, 2, now, 3'000);
  std::map<Instance*, int> clients{{&f[0], 50}, {&f[1], 50}};
  for (int c = 0; c < 100; ++c) {
    Instance& from = c % 2 ? f[1] : f[0];
    if (Instance* to = r.move(f.snap, from, 1, now, false)) {
      --clients[&from];
      ++clients[to];
    }
  }
  EXPECT_EQ(clients[&f[0]] + clients[&f[1]] + clients[&f[2]] + clients[&f[3]], 100);
  for (auto* i : {&f[0], &f[1], &f[2], &f[3]}) {
    EXPECT_GE(clients[i], 20) << i->id;
    EXPECT_LE(clients[i], 30) << i->id;
  }
}

TEST(Rebalancer, BalancedInstancesKeepTheirPins) {
  Fleet f(3);
  Rebalancer r;
  std::int64_t now = 1'000'000;
  serve(r, f, {52, 50, 48}, 1, now, 5'000);  // within the tolerance of the mean
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(r.move(f.snap, f[k], 60, now, false), nullptr);
}

TEST(Rebalancer, ADrainingInstanceShedsIdlePinsWhateverTheLoads) {
  Fleet f(2);
  Rebalancer r;
  std::int64_t now = 1'000'000;
  serve(r, f, {10, 40}, 0, now, 3'000);
  f[0].draining = true;
  EXPECT_EQ(r.move(f.snap, f[0], 60, now, false), &f[1]);
  // An instance out of rotation takes none.
  f[0].draining = false;
  f[1].in_rotation = false;
  EXPECT_EQ(r.move(f.snap, f[0], 60, now, false), nullptr);
}

TEST(Rebalancer, AReplacedInstanceCountsFromZeroAgain) {
  Fleet f(2);
  Rebalancer r;
  std::int64_t now = 1'000'000;
  serve(r, f, {100, 0}, 1, now, 3'000);
  f[0].requests = 0;                                         // a new process under the same id
  EXPECT_EQ(r.move(f.snap, f[0], 60, now, false), nullptr);  // not measured yet
  serve(r, f, {100, 0}, 1, now, 2'000);
  EXPECT_EQ(r.move(f.snap, f[0], 60, now, false), &f[1]);
}

}  // namespace
}  // namespace tether::front
