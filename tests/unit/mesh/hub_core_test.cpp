// HubCore on a fake clock (issue 13 part 5): joining, settling (a fresh
// instance's hello first), resume after a broken link, rejoin grace,
// cut-off, step-down and de-duplication of resent messages, with real
// MemberCores on the other end of in-memory links (mesh_sim.hpp).
#include "tether/mesh/detail/hub_core.hpp"

#include <gtest/gtest.h>

#include "mesh/mesh_sim.hpp"

namespace tether::mesh::detail {
namespace {

using namespace std::chrono_literals;
using sim::hub_with_a_and_b;
using sim::Sim;

std::vector<std::uint64_t> upto(std::uint64_t n) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

// B publishes 3 messages A receives, but never reads the hub's "acked";
// then B's link breaks. Returns B's stream.
std::string publish_three_then_lose_the_acked(Sim& sim) {
  sim.peer("B").hold = true;
  for (int i = 1; i <= 3; ++i) sim.publish("B", "t", "x");
  sim.pump();
  auto b = sim.peer("B").core->stream();
  EXPECT_EQ(sim.peer("A").seqs_from(b), upto(3));
  EXPECT_EQ(sim.peer("B").core->unacked(), 3u);
  sim.break_link("B");
  return b;
}

TEST(HubCore, RefusesHellosUntilTheStoreNamesIt) {
  Sim sim;
  sim.add("A");
  EXPECT_FALSE(sim.join("A", 1));
  ASSERT_EQ(sim.peer("A").refused.size(), 1u);
  EXPECT_EQ(sim.peer("A").refused[0], "not a hub");
  // A record naming another instance is no confirmation.
  store::HubRecord other{1, "c", "X", 0};
  EXPECT_FALSE(sim.hub().confirm_epoch(1, other, sim.now()));
  EXPECT_EQ(sim.hub().epoch(), 0);
  EXPECT_TRUE(sim.make_hub(1));
  EXPECT_EQ(sim.hub().epoch(), 1);
  EXPECT_FALSE(sim.hub().settling());  // epoch 1 has nobody to wait for
}

TEST(HubCore, JoiningWelcomesAndAnnouncesMembers) {
  Sim sim;
  ASSERT_TRUE(sim.make_hub(1));
  sim.add("A");
  sim.add("B");
  ASSERT_TRUE(sim.join("A", 1));
  ASSERT_TRUE(sim.peer("A").welcome);
  EXPECT_FALSE(sim.peer("A").welcome->resumed);
  EXPECT_EQ(sim.peer("A").welcome->epoch, 1);
  EXPECT_EQ(sim.peer("A").welcome->members, std::vector<std::string>{"A"});
  ASSERT_TRUE(sim.join("B", 1));
  EXPECT_EQ(sim.peer("B").welcome->members.size(), 2u);
  EXPECT_EQ(sim.peer("A").core->members(), (std::set<std::string>{"A", "B"}));
  EXPECT_EQ(sim.peer("B").core->members(), (std::set<std::string>{"A", "B"}));
  ASSERT_FALSE(sim.peer("A").events.empty());
  EXPECT_EQ(sim.peer("A").events.back(), std::make_pair(true, std::string("B")));
  EXPECT_EQ(sim.hub().session_count(), 2u);
}

TEST(HubCore, RoutesToSubscribersAndAcksOnceEveryReceiverAcked) {
  Sim sim;
  ASSERT_TRUE(sim.make_hub(1));
  sim.add("A");
  sim.add("B");
  sim.add("C");
  sim.subscribe("A", "t");
  sim.subscribe("C", "t");
  ASSERT_TRUE(sim.join("A", 1));
  ASSERT_TRUE(sim.join("B", 1));
  ASSERT_TRUE(sim.join("C", 1));
  sim.peer("C").hold = true;  // C has not acknowledged yet
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(sim.publish("B", "t", std::to_string(i)), Submit::ok);
  sim.pump();
  auto b = sim.peer("B").core->stream();
  EXPECT_EQ(sim.peer("A").seqs_from(b), upto(3));
  EXPECT_TRUE(sim.peer("B").delivered.empty());  // not subscribed
  EXPECT_EQ(sim.peer("B").core->unacked(), 3u);  // C still owes its ack
  sim.peer("C").hold = false;
  sim.pump();
  EXPECT_EQ(sim.peer("C").seqs_from(b), upto(3));
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
  EXPECT_EQ(sim.peer("B").core->acked_seq(), 3u);
}

// The settling race: after a failover the plan's replacement (a fresh
// instance whose hello names only itself) may be first at the new hub. Its
// hello must not end settling: the members of the previous epoch are not
// known yet, so a sender's resent messages would reach only those back.
TEST(HubCore, SettlingWaitsForAnInformedHelloWhenAFreshOneArrivesFirst) {
  Sim sim(sim::test_config(), "H1");
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  // B publishes; the hub dies before anything is delivered.
  sim.peer("A").hold = true;
  ASSERT_EQ(sim.publish("B", "t", "m1"), Submit::ok);
  sim.pump();
  sim.new_hub("H2");
  sim.peer("A").hold = false;
  ASSERT_TRUE(sim.make_hub(2));
  EXPECT_TRUE(sim.hub().settling());
  ASSERT_TRUE(sim.hub().next_deadline());
  EXPECT_EQ(*sim.hub().next_deadline(), sim.now() + sim.config().rejoin_grace);

  // The fresh instance arrives first and is synced: settling goes on.
  sim.add("F");
  ASSERT_TRUE(sim.join("F", 2));
  EXPECT_TRUE(sim.hub().settling());
  // B (informed: it knew A, B and the old hub) rejoins and resends m1: held.
  ASSERT_TRUE(sim.join("B", 2));
  EXPECT_TRUE(sim.hub().settling());
  EXPECT_EQ(sim.hub().held(), 1u);
  EXPECT_TRUE(sim.peer("A").delivered.empty());
  EXPECT_EQ(sim.peer("B").core->unacked(), 1u);
  // A comes back with its subscription: settling ends, m1 reaches A.
  sim.advance(100ms);
  ASSERT_TRUE(sim.join("A", 2));
  EXPECT_FALSE(sim.hub().settling());
  EXPECT_EQ(sim.hub().held(), 0u);
  auto b = sim.peer("B").core->stream();
  EXPECT_EQ(sim.peer("A").seqs_from(b), upto(1));
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
}

TEST(HubCore, SettlingEndsAtTheDeadlineWhenSomeoneNeverComesBack) {
  Sim sim(sim::test_config(), "H1");
  ASSERT_TRUE(sim.make_hub(1));
  sim.add("A");
  sim.add("B");
  sim.add("C");
  sim.subscribe("A", "t");
  ASSERT_TRUE(sim.join("A", 1));
  ASSERT_TRUE(sim.join("B", 1));
  ASSERT_TRUE(sim.join("C", 1));
  sim.new_hub("H2");
  ASSERT_TRUE(sim.make_hub(2));
  ASSERT_TRUE(sim.join("A", 2));
  ASSERT_TRUE(sim.join("B", 2));  // C never comes back
  ASSERT_EQ(sim.publish("B", "t", "m1"), Submit::ok);
  sim.pump();
  EXPECT_TRUE(sim.hub().settling());
  EXPECT_TRUE(sim.peer("A").delivered.empty());
  sim.advance(sim.config().rejoin_grace - 1ms);
  EXPECT_TRUE(sim.hub().settling());
  sim.advance(1ms);
  EXPECT_FALSE(sim.hub().settling());
  sim.pump();
  EXPECT_EQ(sim.peer("A").seqs_from(sim.peer("B").core->stream()), upto(1));
}

// A member's link breaks with frames in flight and comes back within
// rejoin_grace: the hub replays what it had not acknowledged, from the
// member's received count on. Nothing lost, nothing twice.
TEST(HubCore, ResumeAfterABrokenLinkReplaysUnackedFrames) {
  Sim sim;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  for (int i = 1; i <= 3; ++i) sim.publish("B", "t", "x");
  sim.pump();
  sim.peer("A").hold = true;  // 4 and 5 reach A's link but are never read
  for (int i = 4; i <= 5; ++i) sim.publish("B", "t", "x");
  sim.pump();
  EXPECT_EQ(sim.hub().unacked_of("A"), 2u);
  const auto b_events = sim.peer("B").events.size();
  sim.break_link("A");
  sim.peer("A").hold = false;
  sim.advance(sim.config().rejoin_grace / 2);
  EXPECT_TRUE(sim.hub().has_session("A"));
  ASSERT_TRUE(sim.join("A", 1));
  EXPECT_TRUE(sim.peer("A").welcome->resumed);
  auto b = sim.peer("B").core->stream();
  EXPECT_EQ(sim.peer("A").seqs_from(b), upto(5));
  EXPECT_EQ(sim.peer("A").core->counts().duplicates_dropped, 0u);
  EXPECT_EQ(sim.hub().unacked_of("A"), 0u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
  // No "left A" / "joined A" for a resumed member.
  EXPECT_EQ(sim.peer("B").events.size(), b_events);
}

// The sender's link breaks before the hub's "acked" reaches it: after the
// rejoin it resends its window, the hub relays it again, and the receiver
// drops the duplicates.
TEST(HubCore, ResentMessagesAreDeduplicatedByTheReceiver) {
  Sim sim;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  const auto b = publish_three_then_lose_the_acked(sim);
  sim.advance(sim.config().rejoin_grace * 2);  // B's session expires: it rejoins afresh
  EXPECT_FALSE(sim.hub().has_session("B"));
  sim.peer("B").hold = false;
  ASSERT_TRUE(sim.join("B", 1));
  EXPECT_EQ(sim.peer("B").core->counts().resent, 3u);
  EXPECT_EQ(sim.peer("A").seqs_from(b), upto(3));
  EXPECT_EQ(sim.peer("A").core->counts().duplicates_dropped, 3u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
}

// The sender's link breaks while its messages wait on a slow receiver; it
// resumes within rejoin_grace. The welcome says what the hub already took
// ("have"), so the sender resends none of it, and a resend anyway (a member
// that ignores "have") is dropped at the hub, not relayed again: a member
// that rejoins over and over under load adds no work per rejoin.
TEST(HubCore, AResumedSenderIsRelayedOnceAndResendsOnlyWhatTheHubLacks) {
  Sim sim;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  sim.peer("A").hold = true;  // A reads nothing: B's messages stay unsettled
  for (int i = 1; i <= 3; ++i) sim.publish("B", "t", "x");
  sim.pump();
  EXPECT_EQ(sim.hub().unacked_of("A"), 3u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 3u);
  sim.break_link("B");
  sim.advance(sim.config().rejoin_grace / 2);
  ASSERT_TRUE(sim.join("B", 1));
  ASSERT_TRUE(sim.peer("B").welcome->resumed);
  EXPECT_EQ(sim.peer("B").welcome->have, 3u);
  EXPECT_EQ(sim.peer("B").core->counts().resent, 0u);
  EXPECT_EQ(sim.hub().unacked_of("A"), 3u) << "relayed again";
  // A member that resends anyway: the hub drops it.
  Frame again;
  again.type = FrameType::data;
  again.kind = Kind::publish;
  again.seq = 2;
  again.target = "t";
  again.topic = "t";
  again.payload = "x";
  sim.hub().on_frame(sim.peer("B").link, again);
  sim.pump();
  EXPECT_EQ(sim.hub().counts().resends_dropped, 1u);
  EXPECT_EQ(sim.hub().unacked_of("A"), 3u) << "relayed again";
  sim.peer("A").hold = false;
  sim.pump();
  auto b = sim.peer("B").core->stream();
  EXPECT_EQ(sim.peer("A").seqs_from(b), upto(3));
  EXPECT_EQ(sim.peer("A").core->counts().duplicates_dropped, 0u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
  // New messages after the resume go through as before.
  sim.publish("B", "t", "x");
  sim.pump();
  EXPECT_EQ(sim.peer("A").seqs_from(b), upto(4));
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
}

// The hub settled the sender's messages but its "acked" was lost with the
// link: after the resume the sender learns it (nothing resent, window empty).
TEST(HubCore, AResumedSenderLearnsWhatWasAckedWhileItsLinkWasDown) {
  Sim sim;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  const auto b = publish_three_then_lose_the_acked(sim);
  sim.peer("B").hold = false;
  ASSERT_TRUE(sim.join("B", 1));
  EXPECT_TRUE(sim.peer("B").welcome->resumed);
  EXPECT_EQ(sim.peer("B").core->counts().resent, 0u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
  EXPECT_EQ(sim.peer("A").seqs_from(b), upto(3));
  EXPECT_EQ(sim.peer("A").core->counts().duplicates_dropped, 0u);
}

TEST(HubCore, GraceExpiryReleasesTheSessionAndSettlesItsSenders) {
  Sim sim;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  sim.break_link("A");
  sim.publish("B", "t", "x");  // routed to A's queue while A is away
  sim.pump();
  EXPECT_EQ(sim.peer("B").core->unacked(), 1u);
  ASSERT_TRUE(sim.hub().next_deadline());
  EXPECT_EQ(*sim.hub().next_deadline(), sim.now() + sim.config().rejoin_grace);
  sim.advance(sim.config().rejoin_grace - 1ms);
  EXPECT_TRUE(sim.hub().has_session("A"));
  sim.advance(1ms);
  EXPECT_FALSE(sim.hub().has_session("A"));
  EXPECT_FALSE(sim.hub().next_deadline());
  sim.pump();
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);  // A left: nobody owes an ack
  EXPECT_EQ(sim.peer("B").core->members(), std::set<std::string>{"B"});
  ASSERT_FALSE(sim.peer("B").events.empty());
  EXPECT_EQ(sim.peer("B").events.back(), std::make_pair(false, std::string("A")));
}

TEST(HubCore, ByeReleasesAtOnceWithoutGrace) {
  Sim sim;
  ASSERT_TRUE(sim.make_hub(1));
  sim.add("A");
  sim.add("B");
  ASSERT_TRUE(sim.join("A", 1));
  ASSERT_TRUE(sim.join("B", 1));
  sim.peer("A").core->stop();
  sim.run_member_actions(sim.peer("A"));
  sim.pump();
  sim.break_link("A");
  EXPECT_FALSE(sim.hub().has_session("A"));
  EXPECT_FALSE(sim.hub().next_deadline());
}

TEST(HubCore, CutsOffAMemberThatCannotKeepUp) {
  Sim sim;
  sim.config().member_queue = 4;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  sim.peer("A").hold = true;  // reads nothing, acknowledges nothing
  for (int i = 1; i <= 4; ++i) sim.publish("B", "t", "x");
  sim.pump();
  EXPECT_EQ(sim.hub().counts().members_cut_off, 0u);
  EXPECT_TRUE(sim.hub().has_session("A"));
  sim.publish("B", "t", "x");  // the fifth frame is one too many
  sim.pump();
  EXPECT_EQ(sim.hub().counts().members_cut_off, 1u);
  EXPECT_FALSE(sim.hub().has_session("A"));
  EXPECT_EQ(sim.peer("A").link, 0u);  // its link was dropped
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
  EXPECT_EQ(sim.peer("B").core->members(), std::set<std::string>{"B"});
}

// The CI find (ASan, MeshBounds.SlowMemberIsCutOffAndRejoins): a member at
// its queue's limit is cut off by the very "joined" or "left" frame the hub
// was announcing to every session; its session was erased while that loop
// walked the sessions.
TEST(HubCore, AnAnnouncementThatCutsOffAFullMemberIsSafe) {
  Sim sim;
  sim.config().member_queue = 4;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  sim.add("C");
  sim.subscribe("C", "t");
  ASSERT_TRUE(sim.join("C", 1));
  sim.peer("A").hold = true;  // A and C read nothing, acknowledge nothing
  sim.peer("C").hold = true;
  for (int i = 1; i <= 4; ++i) sim.publish("B", "t", "x");
  sim.pump();
  ASSERT_EQ(sim.hub().counts().members_cut_off, 0u);
  // D's "joined" is one frame too many for both A and C.
  sim.add("D");
  ASSERT_TRUE(sim.join("D", 1));
  sim.pump();
  EXPECT_EQ(sim.hub().counts().members_cut_off, 2u);
  EXPECT_FALSE(sim.hub().has_session("A"));
  EXPECT_FALSE(sim.hub().has_session("C"));
  EXPECT_EQ(sim.hub().session_count(), 2u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);  // the cut-offs settled B's messages
  EXPECT_EQ(sim.peer("B").core->members(), (std::set<std::string>{"B", "D"}));
  EXPECT_EQ(sim.peer("D").core->members(), (std::set<std::string>{"B", "D"}));
}

TEST(HubCore, ALeaveThatCutsOffAFullMemberIsSafe) {
  Sim sim;
  sim.config().member_queue = 4;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  sim.add("C");
  ASSERT_TRUE(sim.join("C", 1));
  sim.peer("A").hold = true;
  for (int i = 1; i <= 4; ++i) sim.publish("B", "t", "x");
  sim.pump();
  ASSERT_EQ(sim.hub().counts().members_cut_off, 0u);
  // C says goodbye: its "left" is A's fifth frame.
  sim.peer("C").core->stop();
  sim.run_member_actions(sim.peer("C"));
  sim.pump();
  sim.break_link("C");
  sim.pump();
  EXPECT_EQ(sim.hub().counts().members_cut_off, 1u);
  EXPECT_FALSE(sim.hub().has_session("A"));
  EXPECT_FALSE(sim.hub().has_session("C"));
  EXPECT_EQ(sim.hub().session_count(), 1u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
  EXPECT_EQ(sim.peer("B").core->members(), std::set<std::string>{"B"});
}

// A member cut off by its own message (routed back to itself past its
// queue's limit) settles what it owed other senders; their "acked" must go
// out with that message, not wait for a next one that may never come.
TEST(HubCore, ACutOffByItsOwnMessageStillAcknowledgesTheOthers) {
  Sim sim;
  sim.config().member_queue = 4;
  // Only B subscribes: A receives nothing that would make it answer.
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim, {"B"}));
  sim.peer("B").hold = true;  // B acknowledges nothing
  for (int i = 1; i <= 3; ++i) sim.publish("A", "t", "a");
  sim.pump();
  ASSERT_EQ(sim.peer("A").core->unacked(), 3u);  // B still owes them
  // B's own two messages come back to it: the second is one too many. The
  // hub reads them itself here, to see what that one message produced.
  sim.publish("B", "t", "b1");
  sim.publish("B", "t", "b2");
  auto& b = sim.peer("B");
  std::string batch;
  for (auto& m : b.outbox) batch += m;
  b.outbox.clear();
  EXPECT_FALSE(sim.hub().on_message(b.link, batch, sim.now()));
  EXPECT_EQ(sim.hub().counts().members_cut_off, 1u);
  EXPECT_FALSE(sim.hub().has_session("B"));
  // Among its actions: A's "acked" for all three, without A saying anything.
  std::uint64_t acked = 0;
  for (const auto& a : sim.hub().take_actions()) {
    if (a.type != HubAction::send || a.link != sim.peer("A").link) continue;
    FrameReader reader(*a.bytes);
    while (auto f = reader.next_view())
      if (f->type == FrameType::acked) acked = f->seq;
  }
  EXPECT_EQ(acked, 3u);
}

// A member cut off and back with the same stream resends nothing the hub
// took: its earlier messages were acknowledged meanwhile and it learns so
// at once, and the others see it leave and join again. (Resending its
// whole window used to flood the others' queues past member_queue and cut
// them off in turn, over and over, on a loaded machine.)
TEST(HubCore, ACutOffMemberComesBackWithoutResendingWhatTheHubTook) {
  Sim sim;
  sim.config().member_queue = 4;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim, {"A", "B"}));
  sim.peer("B").hold = true;  // B reads and acknowledges nothing
  for (int i = 1; i <= 3; ++i) sim.publish("B", "t", "b");
  sim.pump();
  auto b_stream = sim.peer("B").core->stream();
  EXPECT_EQ(sim.peer("A").seqs_from(b_stream), upto(3));
  ASSERT_EQ(sim.peer("B").core->unacked(), 3u);  // its own copies are in its queue
  sim.publish("A", "t", "a");
  sim.publish("A", "t", "a");  // B's queue passes 4: cut off
  sim.pump();
  ASSERT_EQ(sim.hub().counts().members_cut_off, 1u);
  ASSERT_EQ(sim.peer("B").link, 0u);
  // B runs again and rejoins with the same stream.
  sim.peer("B").hold = false;
  ASSERT_TRUE(sim.join("B", 1));
  ASSERT_TRUE(sim.peer("B").welcome);
  EXPECT_TRUE(sim.peer("B").welcome->resumed);
  EXPECT_EQ(sim.peer("B").welcome->have, 3u);
  EXPECT_EQ(sim.peer("B").core->counts().resent, 0u);
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);           // acknowledged while it was away
  EXPECT_EQ(sim.peer("A").seqs_from(b_stream), upto(3));  // nothing twice
  EXPECT_EQ(sim.hub().counts().resends_dropped, 0u);
  EXPECT_EQ(sim.hub().counts().members_cut_off, 1u);
  ASSERT_GE(sim.peer("A").events.size(), 2u);
  EXPECT_EQ(sim.peer("A").events.back(), std::make_pair(true, std::string("B")));
  // It goes on as a member: its next message reaches A once.
  sim.publish("B", "t", "b4");
  sim.pump();
  EXPECT_EQ(sim.peer("A").seqs_from(b_stream), upto(4));
  EXPECT_EQ(sim.peer("B").core->unacked(), 0u);
}

TEST(HubCore, StepsDownWhenTheStoreNamesANewerHub) {
  Sim sim;
  ASSERT_TRUE(sim.make_hub(1));
  sim.add("A");
  ASSERT_TRUE(sim.join("A", 1));
  auto link = sim.peer("A").link;
  // A newer epoch naming this instance is taken over, members stay.
  sim.hub().on_store_record(store::HubRecord{2, "c", sim.hub_id(), 0});
  sim.run_hub_actions();
  EXPECT_EQ(sim.hub().epoch(), 2);
  EXPECT_TRUE(sim.hub().has_session("A"));
  // One naming another instance: step down.
  sim.hub().on_store_record(store::HubRecord{3, "c", "X", 0});
  sim.run_hub_actions();
  EXPECT_EQ(sim.hub().epoch(), 0);
  EXPECT_EQ(sim.hub().session_count(), 0u);
  EXPECT_TRUE(sim.finished.count(link));
  sim.pump();
  ASSERT_TRUE(sim.peer("A").link_end);
  EXPECT_EQ(*sim.peer("A").link_end, LinkState::stepdown);
  // A hello for the old epoch is refused now.
  EXPECT_FALSE(sim.join("A", 2));
}

TEST(HubCore, AHelloForANewerEpochOfAnotherHubMakesItStepDown) {
  Sim sim;
  ASSERT_TRUE(sim.make_hub(1));
  sim.add("A");
  ASSERT_TRUE(sim.join("A", 1));
  store::HubRecord newer{2, "c", "X", 0};
  EXPECT_FALSE(sim.hub().confirm_epoch(2, newer, sim.now()));
  sim.run_hub_actions();
  EXPECT_EQ(sim.hub().epoch(), 0);
}

// The sends the hub made to `id` from its got[from] on: how many, and the
// seqs of the deliver frames in them, in order.
std::pair<std::size_t, std::vector<std::uint64_t>> delivers_since(Sim& sim, const std::string& id,
                                                                  std::size_t from) {
  const auto& got = sim.peer(id).got;
  std::vector<std::uint64_t> seqs;
  for (std::size_t i = from; i < got.size(); ++i) {
    EXPECT_LE(got[i].size(), HubCore::kOutBatch + 64 * 1024);
    FrameReader reader(got[i]);
    while (auto f = reader.next_view())
      if (f->type == FrameType::deliver) seqs.push_back(f->seq);
    EXPECT_TRUE(reader.error().empty());
  }
  return {got.size() - from, seqs};
}

// B's queued messages reach the hub as one message (as one link write
// gathers them).
void send_outbox_as_one_message(Sim& sim, const std::string& id) {
  auto& p = sim.peer(id);
  std::string batch;
  for (auto& m : p.outbox) batch += m;
  p.outbox.clear();
  ASSERT_TRUE(sim.hub().on_message(p.link, batch, sim.now()));
  sim.run_hub_actions();
}

// What one message from a member routes goes to each receiver as one batch:
// one send (one allocation, one write) per receiver, not one per frame.
TEST(HubCore, OneMessageOfFramesGoesToEachReceiverAsOneBatch) {
  Sim sim;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim, {"A", "B"}));
  auto& b = sim.peer("B");
  const auto a_from = sim.peer("A").got.size(), b_from = b.got.size();
  for (int i = 1; i <= 5; ++i) sim.publish("B", "t", "m" + std::to_string(i));
  ASSERT_NO_FATAL_FAILURE(send_outbox_as_one_message(sim, "B"));
  EXPECT_EQ(delivers_since(sim, "A", a_from), std::make_pair(std::size_t{1}, upto(5)));
  EXPECT_EQ(delivers_since(sim, "B", b_from), std::make_pair(std::size_t{1}, upto(5)));
  // Acknowledging the batch settles all five for their sender.
  sim.pump();
  EXPECT_EQ(sim.hub().unacked_of("A"), 0u);
  EXPECT_EQ(sim.hub().unacked_of("B"), 0u);
  EXPECT_EQ(b.core->unacked(), 0u);
  EXPECT_EQ(sim.peer("A").seqs_from(b.core->stream()), upto(5));
}

// A batch is sealed once it reaches kOutBatch bytes: a receiver's sends
// stay bounded, and the frames keep their order across them. A resumed
// receiver gets its unacknowledged frames again from those batches.
TEST(HubCore, BatchesAreBoundedAndReplayedInOrder) {
  Sim sim;
  ASSERT_NO_FATAL_FAILURE(hub_with_a_and_b(sim));
  auto& b = sim.peer("B");
  const auto a_from = sim.peer("A").got.size();
  const std::string payload(10 * 1024, 'p');
  for (int i = 1; i <= 16; ++i) sim.publish("B", "t", payload);
  ASSERT_NO_FATAL_FAILURE(send_outbox_as_one_message(sim, "B"));
  auto [sends, seqs] = delivers_since(sim, "A", a_from);
  EXPECT_GE(sends, 3u);  // 16 frames of over 10 KiB: at least three batches
  EXPECT_EQ(seqs, upto(16));
  // A's link breaks before it read any of them; it resumes and gets all 16.
  sim.break_link("A");
  EXPECT_EQ(sim.hub().unacked_of("A"), 16u);
  ASSERT_TRUE(sim.join("A", 1));
  EXPECT_TRUE(sim.peer("A").welcome->resumed);
  EXPECT_EQ(sim.peer("A").seqs_from(b.core->stream()), upto(16));
  EXPECT_EQ(sim.peer("A").core->counts().duplicates_dropped, 0u);
  EXPECT_EQ(sim.hub().unacked_of("A"), 0u);
  EXPECT_EQ(b.core->unacked(), 0u);
}

TEST(HubCore, RequestToAnUnknownInstanceFailsAtOnce) {
  Sim sim;
  ASSERT_TRUE(sim.make_hub(1));
  sim.add("A");
  ASSERT_TRUE(sim.join("A", 1));
  auto& a = sim.peer("A");
  ASSERT_EQ(a.core->submit(Kind::request, "nobody", "q", 7, "?"), Submit::ok);
  sim.run_member_actions(a);
  sim.pump();
  ASSERT_EQ(a.delivered.size(), 1u);
  EXPECT_EQ(a.delivered[0].kind, Kind::reply_error);
  EXPECT_EQ(sim.hub().counts().undeliverable, 1u);
  EXPECT_EQ(a.core->unacked(), 0u);
}

}  // namespace
}  // namespace tether::mesh::detail
