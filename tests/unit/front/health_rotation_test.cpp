// HealthChecker::apply_rotation: which instances stay in rotation, from their
// check states alone (no sockets, no clock).
#include <gtest/gtest.h>

#include "tether/front/health_checker.hpp"

namespace tether::front {
namespace {

InstanceSnapshot snapshot_with(std::initializer_list<Instance::Health> states) {
  InstanceSnapshot snap;
  int i = 0;
  for (auto h : states) {
    auto id = "i" + std::to_string(i);
    auto inst = std::make_shared<Instance>(
        id, id, "127.0.0.1:" + std::to_string(9000 + i),
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                       static_cast<unsigned short>(9000 + i)));
    inst->health = h;
    snap.instances.push_back(std::move(inst));
    ++i;
  }
  return snap;
}

std::vector<bool> rotation(const InstanceSnapshot& s) {
  std::vector<bool> out;
  for (const auto& i : s.instances) out.push_back(i->in_rotation.load());
  return out;
}

TEST(HealthRotation, HealthyStayCheckingStayOut) {
  auto s = snapshot_with({Instance::healthy, Instance::checking, Instance::healthy});
  EXPECT_EQ(HealthChecker::apply_rotation(s, 0.5), 0u);
  EXPECT_EQ(rotation(s), (std::vector<bool>{true, false, true}));
}

TEST(HealthRotation, FailingAreRemovedUpToTheShare) {
  // 4 instances, 3 failing, 50%: only the first 2 failing ones leave.
  auto s = snapshot_with(
      {Instance::healthy, Instance::failing, Instance::failing, Instance::failing});
  EXPECT_EQ(HealthChecker::apply_rotation(s, 0.5), 2u);
  EXPECT_EQ(rotation(s), (std::vector<bool>{true, false, false, true}));
}

TEST(HealthRotation, NoneRemovedWhenAllFail) {
  auto s = snapshot_with({Instance::failing, Instance::failing});
  EXPECT_EQ(HealthChecker::apply_rotation(s, 0.5), 0u);
  EXPECT_EQ(rotation(s), (std::vector<bool>{true, true}));
}

TEST(HealthRotation, ShareZeroRemovesNothingAndFullShareRemovesAllButHealthy) {
  auto s = snapshot_with({Instance::healthy, Instance::failing, Instance::failing});
  EXPECT_EQ(HealthChecker::apply_rotation(s, 0.0), 0u);
  EXPECT_EQ(rotation(s), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(HealthChecker::apply_rotation(s, 1.0), 2u);
  EXPECT_EQ(rotation(s), (std::vector<bool>{true, false, false}));
}

TEST(HealthRotation, RecoveredInstanceReturns) {
  auto s = snapshot_with({Instance::healthy, Instance::failing});
  HealthChecker::apply_rotation(s, 0.5);
  EXPECT_FALSE(s.instances[1]->in_rotation.load());
  s.instances[1]->health = Instance::healthy;
  HealthChecker::apply_rotation(s, 0.5);
  EXPECT_TRUE(s.instances[1]->in_rotation.load());
}

TEST(HealthRotation, StateNames) {
  auto s = snapshot_with({Instance::checking, Instance::failing, Instance::healthy});
  HealthChecker::apply_rotation(s, 0.5);
  EXPECT_STREQ(s.instances[0]->state_name(0), "checking");
  EXPECT_STREQ(s.instances[1]->state_name(0), "unhealthy");
  EXPECT_STREQ(s.instances[2]->state_name(0), "up");
  s.instances[2]->draining = true;
  EXPECT_STREQ(s.instances[2]->state_name(0), "draining");
  s.instances[2]->down_until = 100;
  EXPECT_STREQ(s.instances[2]->state_name(0), "down");
}

}  // namespace
}  // namespace tether::front
