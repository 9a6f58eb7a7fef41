#pragma once
// (Internal to src/mesh; here so tests/unit can reach it.) The member
// agent's protocol without I/O (docs/mesh.md, "States of an instance",
// "Guarantees"): the sender window (submit, acked, resend after each join),
// de-duplication and the received count per hub session, the membership
// list, and the pure decisions of joining (which cookie to present, join or
// elect after the challenge, the backoff). Frames and the time in, actions
// out; the shell (member.cpp) reads the store, dials, owns the link and runs
// the actions; tests/unit/mesh/member_core_test.cpp drives it. Single-threaded.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tether/mesh/config.hpp"
#include "tether/mesh/detail/hub_core.hpp"
#include "tether/mesh/detail/stream_dedup.hpp"
#include "tether/mesh/frame.hpp"
#include "tether/mesh/handshake.hpp"
#include "tether/store/hub_store.hpp"

namespace tether::mesh::detail {

struct MemberAction {
  enum Type {
    send,     // binary frames to the hub link
    deliver,  // a new (not duplicate) deliver frame for the app: `frame`
    joined,   // `instance_id` joined the mesh
    left,     // `instance_id` left it
    members,  // the membership list changed (after joined/left of one change)
    room,     // the window got room: wake the publishers waiting for it
  } type;
  Bytes bytes;
  Frame frame;
  std::string instance_id;
};

struct MemberCounts {
  std::uint64_t published = 0, delivered = 0, duplicates_dropped = 0, resent = 0;
};

// What mesh submit() answers (mirrors mesh::SendStatus, which lives with the
// Asio-facing API).
enum class Submit { ok, window_full, too_large, stopped };

// After the challenge: what the answering instance means for us.
struct Approach {
  enum Step {
    join,                   // it is the hub of `epoch`: say hello
    elect,                  // re-pinned: CAS the store to `next`, then hello for next.epoch
    redial_without_cookie,  // our cookie led elsewhere without a new one: dial afresh
    no_affinity,            // the front door sets no affinity cookie at all
  } step;
  std::int64_t epoch = 0;
  store::HubRecord next;
};

// What the link's message meant.
enum class LinkState { open, stepdown, bad_frame };

class MemberCore {
 public:
  MemberCore(const MeshConfig& config, std::string instance_id, std::string stream);

  // --- joining
  // The Cookie header to present for `rec` (none after redial_without_cookie).
  std::string cookie_for(const std::optional<store::HubRecord>& rec);
  // The front door answered with `challenge_id` (and `set_cookie` on the 101)
  // when we presented `cookie_sent`, the store's last record being `rec`.
  Approach approach(const std::optional<store::HubRecord>& rec, const std::string& challenge_id,
                    const std::string& set_cookie, const std::string& cookie_sent);
  // Our CAS lost: somebody else won; read the store again without backoff.
  void election_lost() { retry_now_ = true; }
  // It elected its own instance through the front door: join again at once,
  // in process.
  void elected_itself() { retry_now_ = true; }
  // After one pass of joining: 0 to go again at once (it joined, or an
  // election was lost), else how long to back off (50 ms doubling to 1 s;
  // the shell adds jitter).
  std::chrono::milliseconds after_attempt(bool joined);

  // The hello for hub `hub_id` at `epoch` (received count only for the same
  // hub session, our previous view for settling).
  Hello make_hello(const std::string& hub_id, std::int64_t epoch, std::string nonce);
  // The hub welcomed the last make_hello(): the link is up. Queues the
  // subscriptions, the ack ("synced") and every unacknowledged message.
  void on_welcome(const Welcome& welcome);
  // One binary message from the hub. Queues an ack (at once, or by
  // next_deadline_ms(): config.ack_delay) unless it was bad.
  LinkState on_message(std::string_view message, std::int64_t now_ms);
  void on_link_lost() {
    connected_ = false;
    ack_due_ms_.reset();
  }

  // --- time: the one deadline is a gathered ack that is due
  std::optional<std::int64_t> next_deadline_ms() const { return ack_due_ms_; }
  void on_tick(std::int64_t now_ms);
  bool connected() const { return connected_; }

  // --- sending
  Submit submit(Kind kind, std::string target, std::string topic, std::uint64_t correlation,
                std::string payload);
  bool has_room() const;
  void subscribe(const std::string& topic);
  void unsubscribe(const std::string& topic);
  // Stopping: submit says stopped; a bye is queued when connected.
  void stop();
  bool stopping() const { return stopping_; }

  std::vector<MemberAction> take_actions() {
    std::vector<MemberAction> out;
    out.swap(actions_);
    actions_.reserve(out.size());  // the next take is likely as long: no regrowth
    return out;
  }

  const std::set<std::string>& members() const { return members_; }
  std::size_t unacked() const { return window_.size(); }
  std::uint64_t received() const { return received_; }
  std::uint64_t acked_seq() const { return acked_seq_; }
  const std::string& stream() const { return stream_; }
  const MemberCounts& counts() const { return counts_; }

 private:
  struct Outgoing {
    std::uint64_t seq;
    std::size_t payload_bytes;
    Bytes bytes;
  };
  void handle(const FrameView& f, std::int64_t now_ms);
  void set_members(const std::vector<std::string>& ids);
  void acked(std::uint64_t seq);
  // Acknowledges everything received so far, now.
  void ack_now();
  // Frames read before an ack goes at once whatever ack_delay says, so the
  // hub's queue for us (member_queue) never fills waiting for it.
  std::uint64_t ack_every() const;
  void send(Bytes bytes);
  void emit(MemberAction::Type type, std::string instance_id = {});

  const MeshConfig& config_;
  std::string id_, stream_;
  bool dial_without_cookie_ = false;
  bool retry_now_ = false;
  std::chrono::milliseconds backoff_{0};
  std::string hub_id_;                     // the hub of the last welcome
  std::string hub_session_;                // hub id + epoch the received count belongs to
  std::string hello_hub_, hello_session_;  // of the last make_hello()
  std::uint64_t hello_received_ = 0;
  std::uint64_t received_ = 0;  // frames processed from the hub (this session)
  std::uint64_t ack_sent_ = 0;  // received_ as last acknowledged
  std::optional<std::int64_t> ack_due_ms_;
  bool connected_ = false;
  bool stopping_ = false;
  std::deque<Outgoing> window_;
  std::size_t window_bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t acked_seq_ = 0;
  StreamDedup dedup_;  // stream -> last seq delivered, bounded
  std::set<std::string> topics_;
  std::set<std::string> members_;
  std::vector<MemberAction> actions_;
  MemberCounts counts_;
};

}  // namespace tether::mesh::detail
