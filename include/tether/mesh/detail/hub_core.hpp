#pragma once
// (Internal to src/mesh; here so tests/unit can reach it.) The hub's
// protocol without I/O (docs/mesh.md, "HUB", "Settling"): sessions, routing,
// who acknowledged what, rejoin grace, settling, cut-off and step-down. It
// takes hellos, messages, lost links, store records and the time in, and
// gives actions out (bytes for a link, a close) plus the one deadline its
// shell must call on_tick() at. It never reads a clock and never touches a
// socket: the shell (hub.cpp) reads the store, owns the links, and executes
// the actions; tests/unit/mesh/hub_core_test.cpp drives every ordering on a
// fake clock. Single-threaded.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tether/mesh/config.hpp"
#include "tether/mesh/frame.hpp"
#include "tether/mesh/handshake.hpp"
#include "tether/store/hub_store.hpp"

namespace tether::mesh::detail {

using Clock = std::chrono::steady_clock;
using Bytes = std::shared_ptr<const std::string>;
// The shell's name for one connection (never 0).
using LinkId = std::uint64_t;

struct HubAction {
  enum Type {
    send,       // binary frames to `link`
    send_text,  // one JSON text message to `link`
    finish,     // flush what is queued, close `link` (step-down)
    abort,      // drop `link` now
  } type;
  LinkId link = 0;
  Bytes bytes;
};

struct HubCounts {
  std::uint64_t members_cut_off = 0;
  std::uint64_t undeliverable = 0;
  std::uint64_t resends_dropped = 0;  // frames a resumed member sent again
};

class HubCore {
 public:
  // A member's frames are sealed into a batch of at most about this size.
  static constexpr std::size_t kOutBatch = 64 * 1024;

  // `hub_stream`: the stream id of errors the hub itself sends.
  HubCore(const MeshConfig& config, std::string instance_id, std::string hub_stream);
  ~HubCore();

  // 0 when this instance is not a hub.
  std::int64_t epoch() const { return epoch_; }
  bool settling() const { return settling_; }

  // The store answered a hello for `epoch` (newer than epoch()) with `rec`:
  // true when it names this instance at that epoch (it becomes that epoch's
  // hub, settling when it was no hub before); a newer epoch naming another
  // instance makes a hub step down. False: refuse the hello.
  bool confirm_epoch(std::int64_t epoch, const std::optional<store::HubRecord>& rec,
                     Clock::time_point now);
  // The periodic store check read `rec`: a newer epoch naming this instance
  // is taken over, one naming another makes it step down.
  void on_store_record(const std::optional<store::HubRecord>& rec);

  // A hello on `link` passed its MAC (and confirm_epoch when it was newer).
  // True: the member is admitted (welcome, replay or joined are queued as
  // actions) and `link` is its session's link. False: refused (a "refused"
  // text is queued); the shell closes the link.
  bool on_hello(LinkId link, const Hello& hello, Clock::time_point now);

  // One binary message read from `link`. False: stop reading it (it is no
  // longer its session's link, or sent a bad frame: then an abort is queued).
  bool on_message(LinkId link, std::string_view message, Clock::time_point now);
  // One frame from `link`'s member (on_message without the message's end:
  // no sync mark, no acknowledgements flushed; flush() does that).
  void on_frame(LinkId link, Frame& f);
  void flush();

  // `link` broke or closed. Its session keeps its queue for rejoin_grace
  // (from `now`) unless the member said bye.
  void on_link_lost(LinkId link, Clock::time_point now);

  // Time passed: grace and settling deadlines at or before `now` expire.
  void on_tick(Clock::time_point now);
  // The earliest deadline on_tick() must be called at, if any.
  std::optional<Clock::time_point> next_deadline() const;
  // True once since the deadline last changed (the shell re-arms its timer).
  bool take_deadline_changed() {
    bool c = deadline_changed_;
    deadline_changed_ = false;
    return c;
  }

  // What to do, in order; cleared by taking. The frames queued to a member
  // since the last take go as one send per member (a batch of up to
  // kOutBatch bytes), after the other actions of that take for its link.
  std::vector<HubAction> take_actions();

  // Drops every member and all state (instance stopping): aborts queued.
  void shutdown();

  const HubCounts& counts() const { return counts_; }
  // For tests and logs.
  std::size_t session_count() const { return sessions_.size(); }
  bool has_session(const std::string& instance_id) const { return find(instance_id) != nullptr; }
  std::size_t unacked_of(const std::string& instance_id) const;
  std::size_t held() const { return held_.size(); }

 private:
  struct Session;
  using SessionPtr = std::shared_ptr<Session>;
  struct Out {
    std::uint64_t number;                  // position in the session's frame sequence (1-based)
    Bytes batch;                           // the batch the frame went out in (null until sealed)
    std::uint32_t offset = 0, length = 0;  // the frame within the batch
    SessionPtr sender;                     // whose message this is (null: control frame)
    std::uint64_t sender_seq = 0;
  };
  struct Session {
    std::string instance_id, stream;
    LinkId link = 0;  // 0 while in rejoin grace
    std::set<std::string, std::less<>> topics;
    std::deque<Out> unacked;  // sent to the member, not yet acknowledged
    // Frames queued since the last seal: the unacked entries without a
    // batch, in order. Sealed into one shared batch (take_actions, or at
    // kOutBatch bytes): one allocation per member per batch, not per frame,
    // and acknowledging a run of frames touches one batch's count.
    std::string outbuf;
    bool out_listed = false;   // in outputs_
    std::uint64_t frames = 0;  // frames queued to this member so far
    // Own messages routed and not yet settled, (seq, receivers still to
    // ack), in seq order (routing takes a sender's messages in order).
    std::deque<std::pair<std::uint64_t, std::uint32_t>> pending;
    std::uint64_t acked_seq = 0;               // settled: to report to the member
    std::uint64_t reported = 0;                // acked_seq as last sent ("acked")
    std::optional<Clock::time_point> ack_due;  // a gathered "acked" goes then
    std::uint64_t last_in = 0;                 // highest seq of its stream taken in this session
    bool ack_dirty = false;
    bool released = false;
    bool bye = false;
    bool synced = false;                     // its subscriptions are known
    std::optional<Clock::time_point> grace;  // rejoin grace ends
  };

  void become_hub(std::int64_t epoch, Clock::time_point now);
  void step_down(std::int64_t newer_epoch);
  void expect(const Hello& hello);
  void end_settling_if_ready();
  void settle_deadline_passed();
  void handle(const SessionPtr& s, const FrameView& f);
  void route(const SessionPtr& from, const FrameView& f);
  // Queues one encoded frame to `to` (copied into its outbuf).
  void enqueue(const SessionPtr& to, std::string_view frame, const SessionPtr& sender,
               std::uint64_t sender_seq);
  // Turns `s`'s outbuf into one batch: its unacked entries point into it,
  // and it is sent when `s` has a link.
  void seal(const SessionPtr& s);
  void seal_all();
  // Sends `s` its unacknowledged frames again (a resumed session).
  void replay(const SessionPtr& s);
  // A control frame to every session but `except` (joined, left).
  void announce(std::string_view frame, const SessionPtr& except);
  void on_ack(const SessionPtr& s, std::uint64_t count);
  void settle(const SessionPtr& sender, std::uint64_t seq);
  // Sends `s` its "acked" now (what flush() and on_tick() decided).
  void send_acked(const SessionPtr& s);
  void release(const SessionPtr& s, const char* why);
  void cut_off(const SessionPtr& s);
  // The session `hello`'s member had when it was cut off, if it is the
  // same process (stream); taken out of cut_off_ either way.
  SessionPtr revive(const Hello& hello);
  void reply_error(const SessionPtr& to, const FrameView& request, const std::string& error);
  void detach(const SessionPtr& s);
  void set_grace(const SessionPtr& s, std::optional<Clock::time_point> at);
  SessionPtr find(const std::string& instance_id) const;
  SessionPtr session_of(LinkId link) const;
  void emit(HubAction::Type type, LinkId link, Bytes bytes = {});

  const MeshConfig& config_;
  std::string id_;
  std::string hub_stream_;
  std::uint64_t hub_seq_ = 0;
  std::int64_t epoch_ = 0;
  Clock::time_point now_{};                               // the time of the call being handled
  std::unordered_map<std::string, SessionPtr> sessions_;  // by instance id
  std::unordered_map<LinkId, SessionPtr> links_;          // attached links
  // Sessions cut off, kept (their sender state) until their member returns.
  static constexpr std::size_t kMaxCutOff = 1024;
  std::map<std::string, SessionPtr> cut_off_;
  std::vector<SessionPtr> dirty_;
  std::vector<SessionPtr> route_to_;  // route()'s receivers, reused
  std::string route_frame_;           // route()'s deliver frame, reused
  std::vector<SessionPtr> outputs_;   // sessions with a non-empty outbuf
  // Settling: a new hub relays nothing until the members of the previous
  // epoch are back (or rejoin_grace passed), so none misses a message.
  // informed_: a hello that knew the previous epoch's members has arrived;
  // until then expected_ may be incomplete (a fresh instance's hello names
  // only itself), so settling cannot end before the deadline.
  bool settling_ = false;
  bool informed_ = false;
  std::set<std::string> expected_;
  std::deque<std::pair<SessionPtr, Frame>> held_;
  std::optional<Clock::time_point> settle_deadline_;
  std::size_t graces_ = 0;  // sessions with a grace deadline
  bool deadline_changed_ = false;
  std::vector<HubAction> actions_;
  HubCounts counts_;
};

}  // namespace tether::mesh::detail
