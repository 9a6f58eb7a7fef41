#pragma once
// (Internal to src/sidecar; here so tests/unit can reach it.) The local
// API's subscriptions (GET /v1/subscribe) without I/O: a Feed is
// one app subscription (its topics, its events in order with their sequence
// numbers, what had to be dropped); the FeedRegistry finds feeds by topic
// and by stream id for Last-Event-ID. The SSE writer in local_api.cpp
// drains a feed; the tests in tests/unit/sidecar drive every ordering here.
// Everything runs on the instance's I/O thread.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tether::sidecar {

using Clock = std::chrono::steady_clock;

struct FeedLimits {
  std::size_t max_events = 10'000;          // events kept per feed (sent ones too, for resume)
  std::size_t max_bytes = 8u << 20;         // ... and their bytes
  std::chrono::milliseconds grace{30'000};  // a detached feed waits this long for Last-Event-ID
};

class Feed {
 public:
  Feed(std::string stream, std::vector<std::string> topics, FeedLimits limits);

  const std::string& stream() const { return stream_; }
  const std::vector<std::string>& topics() const { return topics_; }
  bool subscribes(const std::string& topic) const;

  // Queues one event: "event: NAME" (none when empty), "id: STREAM/SEQ",
  // "data: DATA" (one line: JSON). Beyond the limits the oldest event goes;
  // one not yet written counts as dropped, announced by the next take().
  // With `with_id`, DATA is a JSON object that gets the same id as its first
  // member ("id": "STREAM/SEQ": the CloudEvent's id, unique per feed).
  void push(const std::string& name, const std::string& data, bool with_id = false);

  // Drops `count` events the app will never see for `reason` ("slow",
  // "expired"): announced by the next take().
  void add_gap(std::uint64_t count, const std::string& reason);

  // What the writer sends next: a gap event when something was dropped, then
  // every event not yet taken, in order. Empty when there is nothing.
  std::string take();
  bool has_output() const;

  // The client saw everything up to `last` (its Last-Event-ID sequence): the
  // later events are sent again; those no longer kept become a gap.
  void resume_after(std::uint64_t last);

  std::uint64_t last_seq() const { return next_seq_ - 1; }
  std::uint64_t dropped() const { return dropped_total_; }
  std::size_t queued() const;  // pushed, not yet taken

  // The writer attached to it (one at a time: a newer one replaces an older).
  std::uint64_t generation = 0;
  bool attached = false;
  // A feed nobody attached yet counts its grace from its opening.
  Clock::time_point detached_at = Clock::now();
  std::function<void()> wake;  // set by the attached writer

 private:
  struct Event {
    std::uint64_t seq;
    std::string text;
  };
  std::string stream_;
  std::vector<std::string> topics_;
  FeedLimits limits_;
  std::deque<Event> events_;
  std::size_t bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t sent_ = 0;   // highest seq taken or dropped: the next to take is sent_ + 1
  std::uint64_t taken_ = 0;  // highest seq written out by take()
  std::uint64_t gap_pending_ = 0;
  std::string gap_reason_;
  std::uint64_t dropped_total_ = 0;
};

// "STREAM/SEQ" split; nullopt when it is not of that form.
struct EventId {
  std::string stream;
  std::uint64_t seq = 0;
};
std::optional<EventId> parse_event_id(const std::string& text);

class FeedRegistry {
 public:
  explicit FeedRegistry(FeedLimits limits) : limits_(limits) {}

  // A new feed with a fresh random stream id.
  std::shared_ptr<Feed> open(std::vector<std::string> topics);
  // The feed `stream`, still kept (attached or within its grace); null if gone.
  std::shared_ptr<Feed> find(const std::string& stream) const;
  // How many events a feed that expired had not delivered (0 if unknown).
  std::uint64_t expired_undelivered(const std::string& stream) const;

  // Feeds subscribed to `topic` (for the backplane subscription's lifetime).
  std::size_t subscribers(const std::string& topic) const;
  // To every feed subscribed to `topic`; returns how many.
  std::size_t deliver(const std::string& topic, const std::string& name, const std::string& data,
                      bool with_id = false);
  // To every feed.
  void deliver_all(const std::string& name, const std::string& data);
  // The feed that answers requests on `topic`: the newest attached one, else
  // the newest kept one; null when none subscribes.
  std::shared_ptr<Feed> responder(const std::string& topic) const;

  // Removes detached feeds past their grace. Returns the topics no feed
  // subscribes to any more.
  std::vector<std::string> expire(Clock::time_point now);

  std::size_t size() const { return feeds_.size(); }
  std::uint64_t feeds_expired() const { return expired_count_; }
  std::uint64_t events_dropped() const;  // over every feed, live and expired

 private:
  FeedLimits limits_;
  std::vector<std::shared_ptr<Feed>> feeds_;         // oldest first
  std::map<std::string, std::uint64_t> tombstones_;  // expired stream -> undelivered
  std::deque<std::string> tombstone_order_;
  std::uint64_t expired_count_ = 0;
  std::uint64_t expired_dropped_ = 0;
};

}  // namespace tether::sidecar
