// InstanceTable: snapshots, versions, tokens, replacement by id. Addresses are
// IP literals so nothing is resolved over the network.
#include "tether/front/instance_table.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

#include "tether/net/sha256.hpp"

namespace tether::front {
namespace {

TEST(InstanceTable, StartsEmptyAtVersionZero) {
  InstanceTable t(TokenMode::instance_id);
  auto snap = t.snapshot();
  ASSERT_NE(snap, nullptr);
  EXPECT_TRUE(snap->instances.empty());
  EXPECT_EQ(snap->version, 0u);
  EXPECT_EQ(t.version(), 0u);
  EXPECT_EQ(snap->find_token("x"), nullptr);
}

TEST(InstanceTable, AddPublishesNewSnapshotAndBumpsVersion) {
  InstanceTable t(TokenMode::instance_id);
  auto before = t.snapshot();
  auto a = t.add("a", "127.0.0.1:9001");
  EXPECT_EQ(t.version(), 1u);
  auto b = t.add("b", "127.0.0.1:9002");
  EXPECT_EQ(t.version(), 2u);

  EXPECT_TRUE(before->instances.empty()) << "old snapshots are immutable";
  auto snap = t.snapshot();
  EXPECT_EQ(snap->version, 2u);
  ASSERT_EQ(snap->instances.size(), 2u);
  EXPECT_EQ(snap->instances[0], a);
  EXPECT_EQ(snap->instances[1], b);
  EXPECT_EQ(a->id, "a");
  EXPECT_EQ(a->address, "127.0.0.1:9001");
  EXPECT_EQ(a->endpoint.address().to_string(), "127.0.0.1");
  EXPECT_EQ(a->endpoint.port(), 9001);
}

TEST(InstanceTable, Ipv6AndEmptyHostAddresses) {
  InstanceTable t(TokenMode::instance_id);
  auto v6 = t.add("v6", "[::1]:9003");
  EXPECT_EQ(v6->endpoint.address().to_string(), "::1");
  EXPECT_EQ(v6->endpoint.port(), 9003);
  auto local = t.add("local", ":9004");
  EXPECT_EQ(local->endpoint.address().to_string(), "127.0.0.1");
  EXPECT_EQ(local->endpoint.port(), 9004);
}

TEST(InstanceTable, FindTokenInInstanceIdMode) {
  InstanceTable t(TokenMode::instance_id);
  auto a = t.add("a", "127.0.0.1:9001");
  t.add("b", "127.0.0.1:9002");
  EXPECT_EQ(t.token_for("a"), "a");
  EXPECT_EQ(a->token, "a");
  auto snap = t.snapshot();
  EXPECT_EQ(snap->find_token("a"), a.get());
  EXPECT_EQ(snap->find_token("b")->id, "b");
  EXPECT_EQ(snap->find_token("c"), nullptr);
  EXPECT_EQ(snap->find_token(""), nullptr);
}

TEST(InstanceTable, Sha256TokenMode) {
  InstanceTable t(TokenMode::sha256);
  auto a = t.add("instance-a", "127.0.0.1:9001");
  EXPECT_EQ(t.token_for("instance-a"), net::sha256_hex("instance-a"));
  EXPECT_EQ(a->token, net::sha256_hex("instance-a"));
  auto snap = t.snapshot();
  EXPECT_EQ(snap->find_token(net::sha256_hex("instance-a")), a.get());
  EXPECT_EQ(snap->find_token("instance-a"), nullptr) << "the raw id is not a token";
}

TEST(InstanceTable, RemoveBumpsVersionOnlyWhenPresent) {
  InstanceTable t(TokenMode::instance_id);
  t.add("a", "127.0.0.1:9001");
  t.add("b", "127.0.0.1:9002");
  EXPECT_TRUE(t.remove("a"));
  EXPECT_EQ(t.version(), 3u);
  auto snap = t.snapshot();
  ASSERT_EQ(snap->instances.size(), 1u);
  EXPECT_EQ(snap->instances[0]->id, "b");
  EXPECT_EQ(snap->find_token("a"), nullptr);
  EXPECT_EQ(t.find("a"), nullptr);

  EXPECT_FALSE(t.remove("a"));
  EXPECT_FALSE(t.remove("nope"));
  EXPECT_EQ(t.version(), 3u);
}

TEST(InstanceTable, OldSnapshotKeepsRemovedInstanceAlive) {
  InstanceTable t(TokenMode::instance_id);
  t.add("a", "127.0.0.1:9001");
  auto old = t.snapshot();
  ASSERT_TRUE(t.remove("a"));
  ASSERT_EQ(old->instances.size(), 1u);
  EXPECT_EQ(old->find_token("a")->address, "127.0.0.1:9001");
}

TEST(InstanceTable, AddWithSameIdReplacesInPlace) {
  InstanceTable t(TokenMode::instance_id);
  auto a1 = t.add("a", "127.0.0.1:9001");
  t.add("b", "127.0.0.1:9002");
  auto a2 = t.add("a", "127.0.0.1:9101");
  EXPECT_EQ(t.version(), 3u);
  auto snap = t.snapshot();
  ASSERT_EQ(snap->instances.size(), 2u);
  EXPECT_EQ(snap->instances[0], a2) << "replacement keeps the position";
  EXPECT_EQ(snap->instances[1]->id, "b");
  EXPECT_EQ(snap->find_token("a"), a2.get());
  EXPECT_EQ(snap->find_token("a")->endpoint.port(), 9101);
  EXPECT_EQ(snap->by_token.size(), 2u);
  EXPECT_EQ(t.find("a"), a2);
  EXPECT_NE(a1, a2);
}

TEST(InstanceTable, FindById) {
  InstanceTable t(TokenMode::sha256);
  auto a = t.add("a", "127.0.0.1:9001");
  EXPECT_EQ(t.find("a"), a);
  EXPECT_EQ(t.find(net::sha256_hex("a")), nullptr);
}

TEST(InstanceTable, BadAddressThrowsAndLeavesTableAlone) {
  InstanceTable t(TokenMode::instance_id);
  t.add("a", "127.0.0.1:9001");
  EXPECT_THROW(t.add("x", "no-port"), std::invalid_argument);
  EXPECT_THROW(t.add("x", "127.0.0.1:70000"), std::invalid_argument);
  EXPECT_THROW(t.add("x", "127.0.0.1:"), std::invalid_argument);
  EXPECT_EQ(t.version(), 1u);
  EXPECT_EQ(t.snapshot()->instances.size(), 1u);
}

TEST(InstanceTable, NewInstanceStartsIdle) {
  InstanceTable t(TokenMode::instance_id);
  auto a = t.add("a", "127.0.0.1:9001");
  EXPECT_EQ(a->outstanding.load(), 0);
  EXPECT_EQ(a->down_until.load(), 0);
  EXPECT_FALSE(a->draining.load());
  EXPECT_TRUE(a->takes_new(now_ms()));
}

TEST(NowMs, IsMonotonic) {
  auto a = now_ms();
  auto b = now_ms();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace tether::front
