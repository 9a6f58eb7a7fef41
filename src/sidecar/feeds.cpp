#include "tether/sidecar/detail/feeds.hpp"

#include <algorithm>
#include <charconv>

#include "tether/net/random.hpp"

namespace tether::sidecar {

namespace {
constexpr std::size_t kTombstones = 1024;  // expired stream ids remembered
}

Feed::Feed(std::string stream, std::vector<std::string> topics, FeedLimits limits)
    : stream_(std::move(stream)), topics_(std::move(topics)), limits_(limits) {}

bool Feed::subscribes(const std::string& topic) const {
  return std::find(topics_.begin(), topics_.end(), topic) != topics_.end();
}

void Feed::push(const std::string& name, const std::string& data, bool with_id) {
  const std::uint64_t seq = next_seq_++;
  const std::string id = stream_ + "/" + std::to_string(seq);
  std::string text;
  text.reserve(name.size() + data.size() + 2 * id.size() + 40);
  if (!name.empty()) text += "event: " + name + "\n";
  text += "id: " + id + "\n";
  if (with_id && data.size() > 2 && data.front() == '{') {
    text += "data: {\"id\":\"" + id + "\",";
    text.append(data, 1);
    text += "\n\n";
  } else
    text += "data: " + data + "\n\n";
  bytes_ += text.size();
  events_.push_back(Event{seq, std::move(text)});
  while (events_.size() > 1 &&
         (events_.size() > limits_.max_events || bytes_ > limits_.max_bytes)) {
    const Event& old = events_.front();
    if (old.seq > sent_) {
      ++gap_pending_;
      ++dropped_total_;
      if (gap_reason_.empty()) gap_reason_ = "slow";
      sent_ = old.seq;  // never to be taken
    }
    bytes_ -= old.text.size();
    events_.pop_front();
  }
  if (wake) wake();
}

void Feed::add_gap(std::uint64_t count, const std::string& reason) {
  if (count == 0) return;
  gap_pending_ += count;
  dropped_total_ += count;
  if (gap_reason_.empty()) gap_reason_ = reason;
  if (wake) wake();
}

bool Feed::has_output() const {
  return gap_pending_ > 0 || (!events_.empty() && events_.back().seq > sent_);
}

std::size_t Feed::queued() const {
  if (events_.empty() || events_.back().seq <= sent_) return 0;
  return static_cast<std::size_t>(events_.back().seq - std::max(sent_, events_.front().seq - 1));
}

std::string Feed::take() {
  std::string out;
  if (gap_pending_ > 0) {
    out += "event: gap\ndata: {\"dropped\":" + std::to_string(gap_pending_) + ",\"reason\":\"" +
           gap_reason_ + "\"}\n\n";
    gap_pending_ = 0;
    gap_reason_.clear();
  }
  if (!events_.empty() && events_.back().seq > sent_) {
    // Events are in seq order; the first not yet taken is sent_ + 1.
    std::size_t from = sent_ >= events_.front().seq
                           ? static_cast<std::size_t>(sent_ - events_.front().seq + 1)
                           : 0;
    for (std::size_t i = from; i < events_.size(); ++i) out += events_[i].text;
    sent_ = events_.back().seq;
  }
  taken_ = sent_;
  return out;
}

void Feed::resume_after(std::uint64_t last) {
  last = std::min(last, taken_);  // nobody saw what was never sent
  const std::uint64_t first_kept = events_.empty() ? next_seq_ : events_.front().seq;
  if (last + 1 >= first_kept) {
    sent_ = last;
    gap_pending_ = 0;  // every id after `last` is still kept: nothing missing
    gap_reason_.clear();
    return;
  }
  // The client will see one gap covering every id it missed that is no
  // longer kept: exactly the hole in the ids it sees. Those pending were
  // counted when they were dropped; the rest were sent and are lost now.
  const std::uint64_t hole = first_kept - 1 - last;
  dropped_total_ += hole > gap_pending_ ? hole - gap_pending_ : 0;
  gap_pending_ = hole;
  if (gap_reason_.empty()) gap_reason_ = "slow";
  sent_ = first_kept - 1;
  if (wake) wake();
}

std::optional<EventId> parse_event_id(const std::string& text) {
  auto slash = text.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= text.size()) return std::nullopt;
  EventId id;
  id.stream = text.substr(0, slash);
  const char* first = text.data() + slash + 1;
  const char* last = text.data() + text.size();
  auto [p, ec] = std::from_chars(first, last, id.seq);
  if (ec != std::errc{} || p != last) return std::nullopt;
  return id;
}

std::shared_ptr<Feed> FeedRegistry::open(std::vector<std::string> topics) {
  auto feed = std::make_shared<Feed>(net::random_hex(16), std::move(topics), limits_);
  feeds_.push_back(feed);
  return feed;
}

std::shared_ptr<Feed> FeedRegistry::find(const std::string& stream) const {
  for (const auto& f : feeds_)
    if (f->stream() == stream) return f;
  return nullptr;
}

std::uint64_t FeedRegistry::expired_undelivered(const std::string& stream) const {
  auto it = tombstones_.find(stream);
  return it == tombstones_.end() ? 0 : it->second;
}

std::size_t FeedRegistry::subscribers(const std::string& topic) const {
  std::size_t n = 0;
  for (const auto& f : feeds_)
    if (f->subscribes(topic)) ++n;
  return n;
}

std::size_t FeedRegistry::deliver(const std::string& topic, const std::string& name,
                                  const std::string& data, bool with_id) {
  std::size_t n = 0;
  for (const auto& f : feeds_)
    if (f->subscribes(topic)) {
      f->push(name, data, with_id);
      ++n;
    }
  return n;
}

void FeedRegistry::deliver_all(const std::string& name, const std::string& data) {
  for (const auto& f : feeds_) f->push(name, data);
}

std::shared_ptr<Feed> FeedRegistry::responder(const std::string& topic) const {
  std::shared_ptr<Feed> kept;
  for (auto it = feeds_.rbegin(); it != feeds_.rend(); ++it) {
    if (!(*it)->subscribes(topic)) continue;
    if ((*it)->attached) return *it;
    if (!kept) kept = *it;
  }
  return kept;
}

std::vector<std::string> FeedRegistry::expire(Clock::time_point now) {
  std::vector<std::string> topics;
  for (auto it = feeds_.begin(); it != feeds_.end();) {
    Feed& f = **it;
    if (f.attached || now - f.detached_at < limits_.grace) {
      ++it;
      continue;
    }
    const std::uint64_t undelivered = f.queued();
    ++expired_count_;
    expired_dropped_ += f.dropped() + undelivered;
    tombstones_[f.stream()] = undelivered;
    tombstone_order_.push_back(f.stream());
    if (tombstone_order_.size() > kTombstones) {
      tombstones_.erase(tombstone_order_.front());
      tombstone_order_.pop_front();
    }
    auto gone = f.topics();
    it = feeds_.erase(it);
    for (auto& t : gone)
      if (subscribers(t) == 0 && std::find(topics.begin(), topics.end(), t) == topics.end())
        topics.push_back(t);
  }
  return topics;
}

std::uint64_t FeedRegistry::events_dropped() const {
  std::uint64_t n = expired_dropped_;
  for (const auto& f : feeds_) n += f->dropped();
  return n;
}

}  // namespace tether::sidecar
