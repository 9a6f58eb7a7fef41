#include "tether/mesh/detail/hub_core.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "tether/mesh/auth.hpp"
#include "tether/net/log.hpp"

namespace tether::mesh::detail {

namespace json = boost::json;

namespace {
std::shared_ptr<spdlog::logger> log() {
  static auto l = net::logger("mesh.hub");
  return l;
}

Bytes shared(std::string s) { return std::make_shared<const std::string>(std::move(s)); }
}  // namespace

HubCore::HubCore(const MeshConfig& config, std::string instance_id, std::string hub_stream)
    : config_(config), id_(std::move(instance_id)), hub_stream_(std::move(hub_stream)) {}

HubCore::~HubCore() {
  // Queued frames hold their senders' sessions: break the cycles.
  for (auto& [id, s] : sessions_) {
    s->unacked.clear();
    s->pending.clear();
  }
  held_.clear();
  outputs_.clear();
}

std::vector<HubAction> HubCore::take_actions() {
  seal_all();
  std::vector<HubAction> out;
  out.swap(actions_);
  actions_.reserve(out.size());  // the next take is likely as long: no regrowth
  return out;
}

void HubCore::seal(const SessionPtr& s) {
  if (s->outbuf.empty()) return;
  if (s->released) {  // its entries were settled or dropped with it
    s->outbuf.clear();
    return;
  }
  auto batch = std::make_shared<const std::string>(std::move(s->outbuf));
  s->outbuf = std::string();
  for (auto it = s->unacked.rbegin(); it != s->unacked.rend() && !it->batch; ++it)
    it->batch = batch;
  if (s->link) emit(HubAction::send, s->link, std::move(batch));
}

void HubCore::seal_all() {
  for (const auto& s : outputs_) {
    s->out_listed = false;
    seal(s);
  }
  outputs_.clear();
}

void HubCore::replay(const SessionPtr& s) {
  seal(s);
  std::string again;
  auto send = [&] {
    if (again.empty()) return;
    emit(HubAction::send, s->link, std::make_shared<const std::string>(std::move(again)));
    again = std::string();
  };
  for (const auto& out : s->unacked) {
    again.append(*out.batch, out.offset, out.length);
    if (again.size() >= kOutBatch) send();
  }
  send();
}

void HubCore::emit(HubAction::Type type, LinkId link, Bytes bytes) {
  actions_.push_back({type, link, std::move(bytes)});
}

HubCore::SessionPtr HubCore::find(const std::string& instance_id) const {
  auto it = sessions_.find(instance_id);
  return it == sessions_.end() ? nullptr : it->second;
}

HubCore::SessionPtr HubCore::session_of(LinkId link) const {
  auto it = links_.find(link);
  return it == links_.end() ? nullptr : it->second;
}

std::size_t HubCore::unacked_of(const std::string& instance_id) const {
  auto s = find(instance_id);
  return s ? s->unacked.size() : 0;
}

bool HubCore::confirm_epoch(std::int64_t epoch, const std::optional<store::HubRecord>& rec,
                            Clock::time_point now) {
  now_ = now;
  if (!rec) return false;
  if (rec->epoch == epoch && rec->hub_id == id_) {
    if (epoch > epoch_) become_hub(epoch, now);
    return true;
  }
  if (rec->epoch > epoch_ && rec->hub_id != id_ && epoch_ > 0) step_down(rec->epoch);
  return false;
}

void HubCore::on_store_record(const std::optional<store::HubRecord>& rec) {
  if (!rec || epoch_ == 0 || rec->epoch <= epoch_) return;
  if (rec->hub_id == id_)
    epoch_ = rec->epoch;
  else
    step_down(rec->epoch);
}

void HubCore::become_hub(std::int64_t epoch, Clock::time_point now) {
  bool was_hub = epoch_ > 0;
  epoch_ = epoch;
  log()->info("instance {} is the hub of epoch {}", id_, epoch);
  if (was_hub) return;  // a newer epoch for the same hub: members stay
  // Epoch 1 has no previous epoch whose members could miss anything.
  settling_ = epoch > 1;
  informed_ = false;
  expected_.clear();
  settle_deadline_.reset();
  if (settling_) settle_deadline_ = now + config_.rejoin_grace;
  deadline_changed_ = true;
}

bool HubCore::on_hello(LinkId link, const Hello& hello, Clock::time_point now) {
  now_ = now;
  if (epoch_ == 0) {
    emit(HubAction::send_text, link, shared(refused_json("not a hub")));
    return false;
  }
  if (settling_) expect(hello);

  // Resume the member's session if it is the same stream, else start afresh.
  SessionPtr s = find(hello.id);
  bool resumed = false, revived = false;
  if (!s) s = revive(hello);
  if (s && s->released) {
    // Cut off earlier, back with the same stream: its own messages up to
    // `have` were taken (their acknowledgements were kept), so it resends
    // only what came after; what it missed while cut off is gone.
    revived = true;
    resumed = true;
    s->released = false;
    s->bye = false;
    s->frames = hello.received;
    sessions_[s->instance_id] = s;
  } else if (s && s->stream == hello.stream) {
    resumed = true;
    if (s->link) {
      auto old = s->link;
      detach(s);
      emit(HubAction::abort, old);
    }
    set_grace(s, std::nullopt);
    while (!s->unacked.empty() && s->unacked.front().number <= hello.received) {
      auto out = std::move(s->unacked.front());
      s->unacked.pop_front();
      if (out.sender) settle(out.sender, out.sender_seq);
    }
  } else {
    if (s) release(s, "rejoined as a new process");
    s = std::make_shared<Session>();
    s->instance_id = hello.id;
    s->stream = hello.stream;
    sessions_[s->instance_id] = s;
  }
  s->link = link;
  links_[link] = s;
  s->released = false;

  json::array members;
  for (const auto& [id, other] : sessions_) members.push_back(json::value(id));
  json::object welcome;
  welcome["t"] = "welcome";
  welcome["id"] = id_;
  welcome["epoch"] = epoch_;
  welcome["resumed"] = resumed;
  if (resumed) welcome["have"] = s->last_in;
  welcome["members"] = std::move(members);
  welcome["mac"] = hmac_hex(config_.key, welcome_text(hello.nonce, id_, epoch_));
  emit(HubAction::send_text, link, shared(json::serialize(welcome)));
  if (revived) {
    announce(encode_control(FrameType::joined, 0, s->instance_id), s);
    if (!s->ack_dirty) {  // what was acknowledged while it was away
      s->ack_dirty = true;
      dirty_.push_back(s);
    }
    log()->info("member {} is back after a cut-off (its messages up to {} kept)", s->instance_id,
                s->last_in);
  } else if (resumed) {
    replay(s);
    log()->info("member {} resumed ({} frames replayed)", s->instance_id, s->unacked.size());
  } else {
    s->frames = hello.received;  // a fresh session counts from what the member says
    announce(encode_control(FrameType::joined, 0, s->instance_id), s);
    log()->info("member {} joined (epoch {}, {} members)", s->instance_id, epoch_,
                sessions_.size());
  }
  flush();
  return true;
}

void HubCore::expect(const Hello& hello) {
  if (!hello.previous_members.empty()) informed_ = true;
  for (const auto& m : hello.previous_members)
    if (m != hello.previous_hub) expected_.insert(m);
  expected_.insert(hello.id);
}

void HubCore::end_settling_if_ready() {
  if (!settling_ || !informed_) return;
  for (const auto& id : expected_) {
    auto s = find(id);
    if (!s || !s->synced) return;
  }
  settling_ = false;
  settle_deadline_.reset();
  deadline_changed_ = true;
  log()->info("epoch {}: {} members back; relaying {} held messages", epoch_, expected_.size(),
              held_.size());
  auto held = std::move(held_);
  held_.clear();
  for (auto& [from, f] : held)
    if (!from->released) route(from, view_of(f));
  flush();
}

void HubCore::settle_deadline_passed() {
  std::string missing;
  for (const auto& id : expected_) {
    auto s = find(id);
    if (!s || !s->synced) missing += (missing.empty() ? "" : ", ") + id.substr(0, 16);
  }
  log()->info("epoch {}: not back within rejoin_grace: {}", epoch_, missing);
  expected_.clear();
  informed_ = true;  // waited long enough for anyone who knew more
  end_settling_if_ready();
}

void HubCore::step_down(std::int64_t newer_epoch) {
  settling_ = false;
  held_.clear();
  settle_deadline_.reset();
  deadline_changed_ = true;
  log()->info("stepping down: the store names another hub at epoch {} (ours {})", newer_epoch,
              epoch_);
  epoch_ = 0;
  auto frame = shared(encode_control(FrameType::stepdown, static_cast<std::uint64_t>(newer_epoch)));
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [id, s] : sessions) {
    seal(s);  // what was queued before the step-down goes first
    s->released = true;
    s->unacked.clear();  // entries hold their senders' sessions: break the cycles
    s->pending.clear();
    set_grace(s, std::nullopt);
    if (s->link) {
      emit(HubAction::send, s->link, frame);
      emit(HubAction::finish, s->link);
      s->link = 0;
    }
  }
  links_.clear();
  dirty_.clear();
  cut_off_.clear();
}

void HubCore::shutdown() {
  epoch_ = 0;
  settling_ = false;
  settle_deadline_.reset();
  deadline_changed_ = true;
  held_.clear();
  dirty_.clear();
  for (auto& [id, s] : sessions_) {
    s->released = true;
    s->unacked.clear();  // entries hold their senders' sessions: break the cycles
    s->pending.clear();
    set_grace(s, std::nullopt);
    if (s->link) emit(HubAction::abort, s->link);
    s->link = 0;
  }
  sessions_.clear();
  links_.clear();
  cut_off_.clear();
}

bool HubCore::on_message(LinkId link, std::string_view message, Clock::time_point now) {
  now_ = now;
  auto s = session_of(link);
  if (!s || s->released) return false;
  FrameReader reader(message);
  while (auto f = reader.next_view()) {
    handle(s, *f);
    if (s->released) break;  // cut off by its own message: its link is aborted
  }
  if (!s->released && !s->synced) {
    s->synced = true;
    end_settling_if_ready();
  }
  const bool bad = !s->released && !reader.error().empty();
  if (bad) log()->warn("member {} sent a bad frame: {}; closing", s->instance_id, reader.error());
  // What this message settled is acknowledged now, whatever becomes of its
  // sender: nothing else may come to flush it (the others may be idle).
  flush();
  return !s->released && !bad;
}

void HubCore::on_frame(LinkId link, Frame& f) {
  auto s = session_of(link);
  if (s && !s->released) handle(s, view_of(f));
}

void HubCore::detach(const SessionPtr& s) {
  if (!s->link) return;
  auto it = links_.find(s->link);
  if (it != links_.end() && it->second == s) links_.erase(it);
  s->link = 0;
}

void HubCore::set_grace(const SessionPtr& s, std::optional<Clock::time_point> at) {
  if (s->grace) --graces_;
  s->grace = at;
  if (s->grace) ++graces_;
  deadline_changed_ = true;
}

void HubCore::on_link_lost(LinkId link, Clock::time_point now) {
  now_ = now;
  auto s = session_of(link);
  if (!s) return;
  detach(s);
  if (s->released) return;
  if (s->bye) {
    release(s, "said goodbye");
    flush();
  } else {
    // Keep its queue for rejoin_grace: a member that comes back resumes.
    set_grace(s, now + config_.rejoin_grace);
  }
}

void HubCore::on_tick(Clock::time_point now) {
  now_ = now;
  if (config_.ack_delay.count() > 0) {
    std::vector<SessionPtr> due;
    for (const auto& [id, s] : sessions_)
      if (s->ack_due && *s->ack_due <= now && !s->released) due.push_back(s);
    for (const auto& s : due) send_acked(s);
  }
  if (settling_ && settle_deadline_ && now >= *settle_deadline_) {
    settle_deadline_.reset();
    deadline_changed_ = true;
    settle_deadline_passed();
  }
  if (graces_ > 0) {
    std::vector<SessionPtr> expired;
    for (const auto& [id, s] : sessions_)
      if (s->grace && *s->grace <= now && !s->link && !s->released) expired.push_back(s);
    for (const auto& s : expired) release(s, "did not come back within rejoin_grace");
  }
  flush();
}

std::optional<Clock::time_point> HubCore::next_deadline() const {
  std::optional<Clock::time_point> at;
  if (settling_ && settle_deadline_) at = settle_deadline_;
  if (graces_ > 0 || config_.ack_delay.count() > 0)
    for (const auto& [id, s] : sessions_) {
      if (s->grace && (!at || *s->grace < *at)) at = s->grace;
      if (s->ack_due && !s->released && (!at || *s->ack_due < *at)) at = s->ack_due;
    }
  return at;
}

void HubCore::handle(const SessionPtr& s, const FrameView& f) {
  switch (f.type) {
    case FrameType::data:
      // A resumed member resends what it has not seen acknowledged; what
      // this session already took is relayed (or held) once, not again.
      if (f.seq <= s->last_in) {
        ++counts_.resends_dropped;
        break;
      }
      s->last_in = f.seq;
      if (settling_)
        held_.emplace_back(s, to_frame(f));  // the message it came in goes away
      else
        route(s, f);
      break;
    case FrameType::ack: on_ack(s, f.seq); break;
    case FrameType::subscribe: s->topics.emplace(f.topic); break;
    case FrameType::unsubscribe:
      if (auto it = s->topics.find(f.topic); it != s->topics.end()) s->topics.erase(it);
      break;
    case FrameType::bye: s->bye = true; break;
    default:
      log()->warn("member {} sent a hub-to-member frame type {}; ignored", s->instance_id,
                  static_cast<int>(f.type));
  }
}

// The payload is copied once: from the message it arrived in into the
// deliver frame every receiver's link shares.
void HubCore::route(const SessionPtr& from, const FrameView& f) {
  if (f.payload.size() > config_.max_message_bytes) {
    log()->warn("member {} sent {} bytes (max_message_bytes {}); dropped", from->instance_id,
                f.payload.size(), config_.max_message_bytes);
    ++counts_.undeliverable;
    from->pending.emplace_back(f.seq, 0);  // no receiver: done at once
    settle(from, f.seq);
    return;
  }
  auto& to = route_to_;
  to.clear();
  switch (f.kind) {
    case Kind::publish:
      for (const auto& [id, s] : sessions_)
        if (s->topics.find(f.target) != s->topics.end()) to.push_back(s);
      break;
    case Kind::broadcast:
      for (const auto& [id, s] : sessions_) to.push_back(s);
      break;
    default:
      if (auto s = find(std::string(f.target))) to.push_back(s);
      break;
  }
  if (to.empty() && f.kind != Kind::publish && f.kind != Kind::broadcast) {
    ++counts_.undeliverable;
    if (f.kind == Kind::request) reply_error(from, f, "no such instance: " + std::string(f.target));
  }
  FrameView d{FrameType::deliver, f.kind,   f.seq,   f.correlation, from->stream,
              from->instance_id,  f.target, f.topic, f.payload};
  route_frame_.clear();
  append_frame(route_frame_, d);
  from->pending.emplace_back(f.seq, static_cast<std::uint32_t>(to.size()));
  // enqueue() never routes (a cut-off settles and announces), so `to` and
  // route_frame_ stay as they are.
  for (const auto& s : to) enqueue(s, route_frame_, from, f.seq);
  // No receiver (or only released ones, settled inside enqueue): done now.
  if (to.empty()) settle(from, f.seq);
  to.clear();  // keeps the capacity, holds no session
}

void HubCore::reply_error(const SessionPtr& to, const FrameView& request,
                          const std::string& error) {
  Frame d;
  d.type = FrameType::deliver;
  d.kind = Kind::reply_error;
  d.seq = ++hub_seq_;
  d.correlation = request.correlation;
  d.stream = hub_stream_;
  d.origin = id_;
  d.target = to->instance_id;
  d.topic = request.topic;
  d.payload = error;
  std::string bytes;
  append_frame(bytes, d);
  enqueue(to, bytes, nullptr, 0);
}

void HubCore::enqueue(const SessionPtr& to, std::string_view frame, const SessionPtr& sender,
                      std::uint64_t sender_seq) {
  if (to->released) {
    if (sender) settle(sender, sender_seq);
    return;
  }
  // A gathered "acked" that is waiting rides along with this message.
  if (sender && to->ack_due) send_acked(to);
  const auto offset = static_cast<std::uint32_t>(to->outbuf.size());
  to->outbuf.append(frame);
  to->unacked.push_back({++to->frames, nullptr, offset, static_cast<std::uint32_t>(frame.size()),
                         sender, sender_seq});
  if (!to->out_listed) {
    to->out_listed = true;
    outputs_.push_back(to);
  }
  if (to->outbuf.size() >= kOutBatch) seal(to);
  if (to->unacked.size() > config_.member_queue) cut_off(to);
}

void HubCore::on_ack(const SessionPtr& s, std::uint64_t count) {
  while (!s->unacked.empty() && s->unacked.front().number <= count) {
    auto out = std::move(s->unacked.front());
    s->unacked.pop_front();
    if (out.sender) settle(out.sender, out.sender_seq);
  }
}

// One receiver is done with `sender`'s message `seq` (or it had none).
void HubCore::settle(const SessionPtr& sender, std::uint64_t seq) {
  auto& pending = sender->pending;
  if (pending.empty() || seq < pending.front().first) return;
  // A sender's routed seqs are usually consecutive: try its place first.
  auto it = pending.end();
  if (const auto at = seq - pending.front().first; at < pending.size() && pending[at].first == seq)
    it = pending.begin() + static_cast<std::ptrdiff_t>(at);
  else
    it = std::lower_bound(pending.begin(), pending.end(), seq,
                          [](const auto& p, std::uint64_t s) { return p.first < s; });
  if (it == pending.end() || it->first != seq) return;
  if (it->second > 0) --it->second;
  bool moved = false;
  while (!pending.empty() && pending.front().second == 0) {
    sender->acked_seq = std::max(sender->acked_seq, pending.front().first);
    pending.pop_front();
    moved = true;
  }
  if (moved && !sender->ack_dirty && !sender->released) {
    sender->ack_dirty = true;
    dirty_.push_back(sender);
  }
}

void HubCore::flush() {
  auto dirty = std::move(dirty_);
  dirty_.clear();
  const auto every = std::clamp<std::uint64_t>(config_.window / 4, 1, 1024);
  for (auto& s : dirty) {
    s->ack_dirty = false;
    if (s->released) continue;
    if (config_.ack_delay.count() <= 0 || s->acked_seq - s->reported >= every) {
      send_acked(s);
    } else if (!s->ack_due) {
      s->ack_due = now_ + config_.ack_delay;
      deadline_changed_ = true;
    }
  }
}

void HubCore::send_acked(const SessionPtr& s) {
  s->ack_due.reset();
  s->reported = s->acked_seq;
  enqueue(s, encode_control(FrameType::acked, s->acked_seq), nullptr, 0);
}

void HubCore::release(const SessionPtr& s, const char* why) {
  if (s->released) return;
  s->released = true;
  set_grace(s, std::nullopt);
  auto it = sessions_.find(s->instance_id);
  if (it != sessions_.end() && it->second == s) sessions_.erase(it);
  auto unacked = std::move(s->unacked);
  s->unacked.clear();
  s->outbuf.clear();
  for (auto& out : unacked)
    if (out.sender) settle(out.sender, out.sender_seq);
  if (s->link) {
    auto link = s->link;
    detach(s);
    emit(HubAction::abort, link);
  }
  log()->info("member {} left: {} ({} members)", s->instance_id, why, sessions_.size());
  announce(encode_control(FrameType::left, 0, s->instance_id), nullptr);
}

// Over a copy of the sessions: an enqueue may cut a member off, and a cut-off
// erases its session (and announces it in turn) while this loop runs.
void HubCore::announce(std::string_view frame, const SessionPtr& except) {
  std::vector<SessionPtr> to;
  to.reserve(sessions_.size());
  for (const auto& [id, other] : sessions_)
    if (other != except) to.push_back(other);
  for (const auto& other : to) enqueue(other, frame, nullptr, 0);
}

void HubCore::cut_off(const SessionPtr& s) {
  ++counts_.members_cut_off;
  log()->warn("member {} cannot keep up ({} frames unacknowledged, member_queue {}): cut off",
              s->instance_id, s->unacked.size(), config_.member_queue);
  release(s, "cut off");
  // Kept for its return: what it sent is still being acknowledged, so when
  // it rejoins it need not send all of it again (which would flood the
  // others' queues and cut them off in turn).
  if (cut_off_.size() >= kMaxCutOff) cut_off_.erase(cut_off_.begin());
  cut_off_[s->instance_id] = s;
}

HubCore::SessionPtr HubCore::revive(const Hello& hello) {
  auto it = cut_off_.find(hello.id);
  if (it == cut_off_.end()) return nullptr;
  auto s = it->second;
  cut_off_.erase(it);
  return s->stream == hello.stream ? s : nullptr;  // a new process starts afresh
}

}  // namespace tether::mesh::detail
