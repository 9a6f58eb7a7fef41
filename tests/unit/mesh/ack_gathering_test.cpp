// Gathered acknowledgements (MeshConfig::ack_delay) on a fake clock: a
// member acknowledges what it read once per ack_delay (or with its next
// publish, or after ack_every frames), and the hub reports what it settled
// to a sender the same way, so a message at a low rate costs no
// acknowledgement hops of its own. Delivery never waits for either.
#include <gtest/gtest.h>

#include "mesh/mesh_sim.hpp"

namespace tether::mesh::detail {
namespace {

using namespace std::chrono_literals;
using sim::Sim;

Sim gathering_sim(std::size_t member_queue = 65'536) {
  auto c = sim::test_config();
  c.ack_delay = 5ms;
  c.member_queue = member_queue;
  return Sim(c);
}

// How many frames of `type` the messages hold.
std::size_t count(const std::vector<std::string>& messages, FrameType type) {
  std::size_t n = 0;
  for (const auto& m : messages) {
    FrameReader r(m);
    while (auto f = r.next())
      if (f->type == type) ++n;
  }
  return n;
}

// The hub of epoch 1 with A subscribed to "t" and B joined; the sent and
// got records start after the joins.
void joined(Sim& sim) {
  ASSERT_NO_FATAL_FAILURE(sim::hub_with_a_and_b(sim));
  sim.advance(5ms);  // A's ack of "B joined"
  sim.pump();
  ASSERT_EQ(sim.hub().unacked_of("A"), 0u);
  for (auto id : {"A", "B"}) {
    sim.peer(id).sent.clear();
    sim.peer(id).got.clear();
  }
}

TEST(GatheredAcks, TwentyMessagesOneAtATimeCostOneAckEachWay) {
  auto sim = gathering_sim();
  joined(sim);
  auto b = sim.peer("B").core->stream();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(sim.publish("B", "t", "m"), Submit::ok);
    sim.pump();  // one message per read, as at a low rate
    sim.advance(100us);
  }
  // Delivered at once, each; nothing acknowledged yet.
  EXPECT_EQ(sim.peer("A").seqs_from(b).size(), 20u);
  EXPECT_EQ(count(sim.peer("A").sent, FrameType::ack), 0u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 20u);
  EXPECT_EQ(sim.hub().unacked_of("A"), 20u);

  sim.advance(5ms);  // A's ack is due
  sim.pump();
  EXPECT_EQ(count(sim.peer("A").sent, FrameType::ack), 1u);
  EXPECT_EQ(sim.hub().unacked_of("A"), 0u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 20u) << "the hub's acked is gathered too";

  sim.advance(5ms);  // the hub's acked for B is due
  sim.pump();
  EXPECT_EQ(count(sim.peer("B").got, FrameType::acked), 1u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
  EXPECT_EQ(sim.peer("B").core->acked_seq(), 20u);
  EXPECT_EQ(sim.hub().counts().members_cut_off, 0u);
}

TEST(GatheredAcks, AWaitingAckRidesAlongWithAPublish) {
  auto sim = gathering_sim();
  joined(sim);
  sim.subscribe("B", "u");
  sim.pump();
  sim.publish("B", "t", "to A");
  sim.pump();
  ASSERT_EQ(sim.peer("A").delivered.size(), 1u);
  sim.peer("A").sent.clear();
  // A publishes before its ack is due: the ack goes in the same write,
  // ahead of the data frame, and no ack of its own follows.
  sim.publish("A", "u", "to B");
  ASSERT_EQ(sim.peer("A").sent.size(), 2u);
  EXPECT_EQ(count({sim.peer("A").sent[0]}, FrameType::ack), 1u);
  EXPECT_EQ(count({sim.peer("A").sent[1]}, FrameType::data), 1u);
  sim.pump();
  EXPECT_EQ(sim.hub().unacked_of("A"), 0u);
  sim.advance(5ms);
  sim.pump();
  EXPECT_EQ(count(sim.peer("A").sent, FrameType::ack), 1u) << "nothing left to acknowledge";
}

TEST(GatheredAcks, TheHubsQueueNeverFillsWaitingForThem) {
  // member_queue 16: A acknowledges every 4 frames however little time
  // passes, so the hub never holds 16 frames for it and never cuts it off.
  auto sim = gathering_sim(16);
  joined(sim);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(sim.publish("B", "t", "m"), Submit::ok);
    sim.pump();
    EXPECT_LE(sim.hub().unacked_of("A"), 4u);
  }
  EXPECT_EQ(sim.hub().counts().members_cut_off, 0u);
  EXPECT_EQ(sim.peer("A").delivered.size(), 100u);
  EXPECT_EQ(count(sim.peer("A").sent, FrameType::ack), 25u);
}

TEST(GatheredAcks, ALostLinkForgetsTheDueAckAndTheHelloCarriesTheCount) {
  auto sim = gathering_sim();
  joined(sim);
  for (int i = 0; i < 3; ++i) sim.publish("B", "t", "m");
  sim.pump();
  ASSERT_TRUE(sim.peer("A").core->next_deadline_ms());
  sim.break_link("A");
  EXPECT_FALSE(sim.peer("A").core->next_deadline_ms());
  // The rejoin's hello says what A read: nothing is replayed to it.
  ASSERT_TRUE(sim.join("A", 1));
  EXPECT_EQ(sim.peer("A").delivered.size(), 3u);
  EXPECT_EQ(sim.hub().unacked_of("A"), 0u);
  sim.advance(5ms);
  sim.pump();
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
}

}  // namespace
}  // namespace tether::mesh::detail
