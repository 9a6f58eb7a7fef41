// The Redis backplane end to end (`[mesh] backplane = "redis"`): `tether up
// --app meshprobe` plans whose instances talk through a real redis-server
// (tests/support/redis_server.hpp) instead of the mesh's hub. docs/mesh.md,
// "The app API", states what this backplane promises: at most once, nothing
// across a reconnect.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>

#include <boost/json.hpp>

#include "support/mesh_probe.hpp"
#include "support/redis_server.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

namespace json = boost::json;

using namespace probe;

// True when every instance of `group` is connected and lists exactly the
// ids of `group` as members.
bool all_members(const Group& group) {
  std::set<std::string> ids;
  for (const auto& [id, i] : group) ids.insert(id);
  for (const auto& [id, i] : group) {
    auto r = report(i.port);
    if (!r || r->role != "member" || r->members != ids) return false;
  }
  return true;
}

// Waits until every instance of `group` has received more than 20 new
// messages from every other one.
void wait_for_delivery(const Group& group) {
  auto count = [&](const Report& r, const std::string& from) -> std::uint64_t {
    auto* s = r.received.if_contains(from);
    return s ? s->as_object().at("count").to_number<std::uint64_t>() : 0;
  };
  std::map<std::pair<std::string, std::string>, std::uint64_t> before;
  for (const auto& [rid, ri] : group)
    if (auto r = report(ri.port))
      for (const auto& [sid, si] : group) before[{rid, sid}] = count(*r, sid);
  ASSERT_TRUE(eventually([&] {
    for (const auto& [rid, ri] : group) {
      auto r = report(ri.port);
      if (!r) return false;
      for (const auto& [sid, si] : group)
        if (count(*r, sid) <= before[{rid, sid}] + 20) return false;
    }
    return true;
  })) << describe(group);
}

class MeshRedisTest : public ::testing::Test {
 protected:
  // A plan of `n` meshprobe instances on the Redis backplane.
  PlanProc plan(unsigned n) {
    auto cfg = write_temp_file("mesh-redis.toml", "[mesh]\nbackplane = \"redis\"\nredis = \"" +
                                                      redis_.unix_socket() + "\"\n");
    auto p = start_plan({"--app", "meshprobe", "--instances", std::to_string(n), "--config", cfg});
    p.wait_ready(n);
    return p;
  }
  RedisServer redis_;
};

// Three instances publish numbered messages through Redis with no fault:
// every instance receives every message of every instance (itself included)
// exactly once, in order, and each lists the three as members.
TEST_F(MeshRedisTest, ThreeInstancesReceiveEveryMessage) {
  auto p = plan(3);
  auto all = instances(p);
  ASSERT_EQ(all.size(), 3u);
  ASSERT_TRUE(eventually([&] { return all_members(all); })) << describe(all);
  start_publishing(all, 300);
  wait_for_delivery(all);

  expect_exactly_once(all);
}

// Request/reply and direct sends between two instances; a request to an
// instance nobody listens as fails at once with "no such instance".
TEST_F(MeshRedisTest, RequestReplyAndDirectSend) {
  auto p = plan(2);
  auto all = instances(p);
  ASSERT_TRUE(eventually([&] { return all_members(all); })) << describe(all);
  expect_request_reply_and_direct_send(all.begin()->second, std::next(all.begin())->second);
}

// Redis restarts (empty) while everyone publishes: the instances reconnect,
// count the loss, rebuild the membership and deliver again; an instance
// SIGKILLed leaves the others' member lists once its key expires.
TEST_F(MeshRedisTest, RedisRestartAndAKilledInstance) {
  auto p = plan(3);
  auto all = instances(p);
  ASSERT_TRUE(eventually([&] { return all_members(all); })) << describe(all);
  start_publishing(all, 200);
  wait_for_delivery(all);

  redis_.stop();
  ASSERT_TRUE(eventually([&] {
    for (const auto& [id, i] : all) {
      auto r = report(i.port);
      if (!r || r->role == "member" || r->store_errors == 0) return false;
    }
    return true;
  })) << describe(all);
  redis_.start();
  ASSERT_TRUE(eventually([&] {
    for (const auto& [id, i] : all) {
      auto r = report(i.port);
      if (!r || r->joins < 2) return false;
    }
    return all_members(all);
  })) << describe(all);
  wait_for_delivery(all);

  auto victim = all.begin()->second;
  ASSERT_EQ(::kill(victim.pid, SIGKILL), 0);
  auto survivors = all;
  survivors.erase(victim.id);
  EXPECT_TRUE(eventually([&] {
    for (const auto& [id, i] : survivors) {
      auto r = report(i.port);
      if (!r || r->members.count(victim.id)) return false;
    }
    return true;
  })) << describe(survivors);
  wait_for_delivery(survivors);
}

}  // namespace
}  // namespace tether::test
