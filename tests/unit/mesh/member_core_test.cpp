// MemberCore without I/O (issue 13 part 5): the sender window, resend after
// a join, acknowledgements, de-duplication, the received count per hub
// session, membership, and the joining decisions (elect, the race, backoff).
#include "tether/mesh/detail/member_core.hpp"

#include <gtest/gtest.h>

#include "mesh/mesh_sim.hpp"
#include "tether/store/hub_store.hpp"

namespace tether::mesh::detail {
namespace {

using namespace std::chrono_literals;

std::vector<Frame> frames_of(const std::vector<MemberAction>& actions) {
  std::vector<Frame> out;
  for (const auto& a : actions) {
    if (a.type != MemberAction::send) continue;
    FrameReader r(*a.bytes);
    while (auto f = r.next()) out.push_back(*f);
    EXPECT_EQ(r.error(), "");
  }
  return out;
}

std::string deliver(const std::string& stream, std::uint64_t seq, const std::string& payload) {
  Frame f;
  f.type = FrameType::deliver;
  f.kind = Kind::publish;
  f.seq = seq;
  f.stream = stream;
  f.origin = "O";
  f.topic = "t";
  f.payload = payload;
  std::string out;
  append_frame(out, f);
  return out;
}

Welcome welcome(std::int64_t epoch, std::vector<std::string> members, bool resumed = false,
                std::string hub = "H") {
  Welcome w;
  w.id = std::move(hub);
  w.epoch = epoch;
  w.members = std::move(members);
  w.resumed = resumed;
  return w;
}

struct Fixture : ::testing::Test {
  MeshConfig config = sim::test_config();
  MemberCore core{config, "A", "A/1"};

  void connect(std::int64_t epoch = 1, bool resumed = false) {
    core.make_hello("H", epoch, "n");
    core.on_welcome(welcome(epoch, {"A"}, resumed));
  }
};

using MemberCoreWindow = Fixture;

TEST_F(MemberCoreWindow, FullThenRoomAfterAcked) {
  config.window = 3;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(core.submit(Kind::publish, "t", "t", 0, "x"), Submit::ok);
  EXPECT_FALSE(core.has_room());
  EXPECT_EQ(core.submit(Kind::publish, "t", "t", 0, "x"), Submit::window_full);
  EXPECT_EQ(core.unacked(), 3u);
  connect();
  core.take_actions();
  std::string acked = encode_control(FrameType::acked, 2);
  EXPECT_EQ(core.on_message(acked, 0), LinkState::open);
  auto actions = core.take_actions();
  bool room = false;
  for (const auto& a : actions) room |= a.type == MemberAction::room;
  EXPECT_TRUE(room);
  EXPECT_TRUE(core.has_room());
  EXPECT_EQ(core.unacked(), 1u);
  EXPECT_EQ(core.acked_seq(), 2u);
  // An older acked changes nothing.
  std::string old = encode_control(FrameType::acked, 1);
  core.on_message(old, 0);
  EXPECT_EQ(core.unacked(), 1u);
}

TEST_F(MemberCoreWindow, BytesTooLargeAndStopped) {
  config.window_bytes = 10;
  config.max_message_bytes = 8;
  EXPECT_EQ(core.submit(Kind::publish, "t", "t", 0, std::string(9, 'x')), Submit::too_large);
  EXPECT_EQ(core.submit(Kind::publish, "t", "t", 0, std::string(8, 'x')), Submit::ok);
  EXPECT_EQ(core.submit(Kind::publish, "t", "t", 0, std::string(2, 'x')), Submit::ok);
  EXPECT_EQ(core.submit(Kind::publish, "t", "t", 0, "x"), Submit::window_full);  // 10 bytes held
  connect();
  core.take_actions();
  core.stop();
  auto frames = frames_of(core.take_actions());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, FrameType::bye);
  EXPECT_EQ(core.submit(Kind::publish, "t", "t", 0, "x"), Submit::stopped);
}

using MemberCoreJoin = Fixture;

TEST_F(MemberCoreJoin, ResendsTheWindowInOrderAfterEveryJoin) {
  core.subscribe("t");
  core.subscribe("u");
  for (int i = 1; i <= 3; ++i) core.submit(Kind::publish, "t", "t", 0, std::to_string(i));
  EXPECT_TRUE(frames_of(core.take_actions()).empty());  // not connected: nothing sent yet
  connect();
  auto frames = frames_of(core.take_actions());
  ASSERT_EQ(frames.size(), 6u);
  EXPECT_EQ(frames[0].type, FrameType::subscribe);
  EXPECT_EQ(frames[1].type, FrameType::subscribe);
  EXPECT_EQ(frames[2].type, FrameType::ack);  // "synced" after the subscriptions
  for (std::uint64_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(frames[2 + i].type, FrameType::data);
    EXPECT_EQ(frames[2 + i].seq, i);
    EXPECT_EQ(frames[2 + i].payload, std::to_string(i));
  }
  EXPECT_EQ(core.counts().resent, 3u);
  // Acked 2, the link breaks, the next join resends only 3.
  std::string acked = encode_control(FrameType::acked, 2);
  core.on_message(acked, 0);
  core.on_link_lost();
  core.take_actions();
  connect(2);
  frames = frames_of(core.take_actions());
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[3].type, FrameType::data);
  EXPECT_EQ(frames[3].seq, 3u);
  // Connected: a submit goes out at once.
  core.submit(Kind::publish, "t", "t", 0, "4");
  frames = frames_of(core.take_actions());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].seq, 4u);
}

TEST_F(MemberCoreJoin, ReceivedCountCarriesOverOnlyToTheSameHubSession) {
  connect(1);
  core.take_actions();
  std::string two = deliver("S/1", 1, "a") + deliver("S/1", 2, "b");
  core.on_message(two, 0);
  EXPECT_EQ(core.received(), 2u);
  auto frames = frames_of(core.take_actions());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, FrameType::ack);
  EXPECT_EQ(frames[0].seq, 2u);
  core.on_link_lost();
  EXPECT_EQ(core.make_hello("H", 1, "n").received, 2u);  // the same hub and epoch
  EXPECT_EQ(core.make_hello("H", 2, "n").received, 0u);  // a newer epoch
  EXPECT_EQ(core.make_hello("X", 1, "n").received, 0u);  // another hub
  // The hello carries the previous view for settling.
  auto h = core.make_hello("X", 2, "n");
  EXPECT_EQ(h.previous_hub, "H");
  EXPECT_EQ(h.previous_members, std::vector<std::string>{"A"});
  // Welcomed by X (not resumed): counting starts at 0.
  core.on_welcome(welcome(2, {"A"}, false, "X"));
  EXPECT_EQ(core.received(), 0u);
}

TEST_F(MemberCoreJoin, DropsDuplicatesOfResentMessages) {
  connect();
  core.take_actions();
  std::string first = deliver("S/1", 1, "a") + deliver("S/1", 2, "b");
  core.on_message(first, 1000);
  // After a failover the sender resends 1..3: only 3 is new.
  std::string again = deliver("S/1", 1, "a") + deliver("S/1", 2, "b") + deliver("S/1", 3, "c");
  core.on_message(again, 2000);
  std::vector<std::string> got;
  for (const auto& a : core.take_actions())
    if (a.type == MemberAction::deliver) got.push_back(a.frame.payload);
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(core.counts().delivered, 3u);
  EXPECT_EQ(core.counts().duplicates_dropped, 2u);
  EXPECT_EQ(core.received(), 5u);  // duplicates are frames too: they are acknowledged
}

TEST_F(MemberCoreJoin, MembershipFromTheWelcomeAndFrames) {
  core.make_hello("H", 1, "n");
  core.on_welcome(welcome(1, {"A", "B"}));
  std::vector<std::pair<MemberAction::Type, std::string>> events;
  auto collect = [&] {
    for (const auto& a : core.take_actions())
      if (a.type == MemberAction::joined || a.type == MemberAction::left)
        events.emplace_back(a.type, a.instance_id);
  };
  collect();
  std::string msg = encode_control(FrameType::joined, 0, "C") +
                    encode_control(FrameType::left, 0, "B") +
                    encode_control(FrameType::joined, 0, "C");  // no second event
  core.on_message(msg, 0);
  collect();
  using T = MemberAction::Type;
  std::vector<std::pair<T, std::string>> want{{MemberAction::joined, "A"},
                                              {MemberAction::joined, "B"},
                                              {MemberAction::joined, "C"},
                                              {MemberAction::left, "B"}};
  EXPECT_EQ(events, want);
  EXPECT_EQ(core.members(), (std::set<std::string>{"A", "C"}));
  // A new hub's welcome without C: C left.
  events.clear();
  core.on_link_lost();
  core.make_hello("X", 2, "n");
  core.on_welcome(welcome(2, {"A"}, false, "X"));
  collect();
  EXPECT_EQ(events, (std::vector<std::pair<T, std::string>>{{MemberAction::left, "C"}}));
}

TEST_F(MemberCoreJoin, StepdownEndsTheLinkAndABadFrameToo) {
  connect();
  core.take_actions();
  std::string stepdown = encode_control(FrameType::stepdown, 5);
  EXPECT_EQ(core.on_message(stepdown, 0), LinkState::stepdown);
  std::string bad("\x00\x00\x00\x02zz", 6);
  EXPECT_EQ(core.on_message(bad, 0), LinkState::bad_frame);
}

using MemberCoreElection = Fixture;

TEST_F(MemberCoreElection, JoinsTheRecordedHubOrElectsTheOneThatAnswered) {
  store::HubRecord rec{4, "ARRAffinity=h", "H", 0};
  EXPECT_EQ(core.cookie_for(rec), "ARRAffinity=h");
  auto a = core.approach(rec, "H", "", "ARRAffinity=h");
  EXPECT_EQ(a.step, Approach::join);
  EXPECT_EQ(a.epoch, 4);
  // Re-pinned to X: elect X at epoch 5 with its cookie.
  a = core.approach(rec, "X", "ARRAffinity=x", "ARRAffinity=h");
  EXPECT_EQ(a.step, Approach::elect);
  EXPECT_EQ(a.next.epoch, 5);
  EXPECT_EQ(a.next.hub_id, "X");
  EXPECT_EQ(a.next.cookie, "ARRAffinity=x");
  // No record at all: elect whoever answered, epoch 1.
  a = core.approach(std::nullopt, "X", "ARRAffinity=x", "");
  EXPECT_EQ(a.step, Approach::elect);
  EXPECT_EQ(a.next.epoch, 1);
  // Our cookie led elsewhere and no new cookie came: dial once without one.
  a = core.approach(rec, "X", "", "ARRAffinity=h");
  EXPECT_EQ(a.step, Approach::redial_without_cookie);
  EXPECT_EQ(core.cookie_for(rec), "");
  EXPECT_EQ(core.cookie_for(rec), "ARRAffinity=h");  // only once
  // No cookie sent and none set: the front door has no affinity.
  a = core.approach(std::nullopt, "X", "", "");
  EXPECT_EQ(a.step, Approach::no_affinity);
}

// Two members re-pinned to different instances race the same CAS: one wins,
// the loser retries at once (no backoff), reads the winner and joins it.
TEST_F(MemberCoreElection, TwoRacingMembersTheLoserRetriesAndJoinsTheWinner) {
  auto store = store::open_hub_store("memory:");
  store->compare_and_set("m", 0, store::HubRecord{1, "ARRAffinity=old", "OLD", 0});
  MemberCore b{config, "B", "B/1"};
  auto rec = store->read("m");
  ASSERT_TRUE(rec);
  auto a_plan = core.approach(rec, "A", "ARRAffinity=a", rec->cookie);
  auto b_plan = b.approach(rec, "B", "ARRAffinity=b", rec->cookie);
  ASSERT_EQ(a_plan.step, Approach::elect);
  ASSERT_EQ(b_plan.step, Approach::elect);
  EXPECT_TRUE(store->compare_and_set("m", a_plan.epoch, a_plan.next));
  EXPECT_FALSE(store->compare_and_set("m", b_plan.epoch, b_plan.next));
  b.election_lost();
  EXPECT_EQ(b.after_attempt(false), 0ms);  // at once
  EXPECT_EQ(core.after_attempt(true), 0ms);
  rec = store->read("m");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->hub_id, "A");
  EXPECT_EQ(b.cookie_for(rec), "ARRAffinity=a");
  auto retry = b.approach(rec, "A", "", "ARRAffinity=a");
  EXPECT_EQ(retry.step, Approach::join);
  EXPECT_EQ(retry.epoch, 2);
}

TEST_F(MemberCoreElection, BackoffDoublesToOneSecondAndResetsOnJoin) {
  std::vector<std::chrono::milliseconds> got;
  for (int i = 0; i < 7; ++i) got.push_back(core.after_attempt(false));
  EXPECT_EQ(got, (std::vector<std::chrono::milliseconds>{50ms, 100ms, 200ms, 400ms, 800ms, 1000ms,
                                                         1000ms}));
  EXPECT_EQ(core.after_attempt(true), 0ms);
  EXPECT_EQ(core.after_attempt(false), 50ms);
}

// A member the front door sent to its own instance wins the election, then
// drops that link and joins its hub in process, at once (no backoff).
TEST_F(MemberCoreElection, ElectingItselfJoinsAgainAtOnce) {
  EXPECT_EQ(core.after_attempt(false), 50ms);
  core.elected_itself();
  EXPECT_EQ(core.after_attempt(false), 0ms);
  EXPECT_EQ(core.after_attempt(false), 50ms);
}

}  // namespace
}  // namespace tether::mesh::detail
