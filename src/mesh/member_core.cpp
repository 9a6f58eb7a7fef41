#include "tether/mesh/detail/member_core.hpp"

#include <algorithm>

#include "tether/net/log.hpp"

namespace tether::mesh::detail {

using namespace std::chrono_literals;

namespace {
std::shared_ptr<spdlog::logger> log() {
  static auto l = net::logger("mesh");
  return l;
}
}  // namespace

MemberCore::MemberCore(const MeshConfig& config, std::string instance_id, std::string stream)
    : config_(config), id_(std::move(instance_id)), stream_(std::move(stream)) {}

void MemberCore::emit(MemberAction::Type type, std::string instance_id) {
  MemberAction a{type, {}, {}, std::move(instance_id)};
  actions_.push_back(std::move(a));
}

void MemberCore::send(Bytes bytes) {
  MemberAction a{MemberAction::send, std::move(bytes), {}, {}};
  actions_.push_back(std::move(a));
}

std::string MemberCore::cookie_for(const std::optional<store::HubRecord>& rec) {
  std::string cookie = rec && !dial_without_cookie_ ? rec->cookie : std::string();
  dial_without_cookie_ = false;
  return cookie;
}

Approach MemberCore::approach(const std::optional<store::HubRecord>& rec,
                              const std::string& challenge_id, const std::string& set_cookie,
                              const std::string& cookie_sent) {
  Approach a{Approach::join, rec ? rec->epoch : 0, {}};
  if (rec && challenge_id == rec->hub_id) return a;
  // ELECTING: the front door sent us to `challenge_id`; make it the hub.
  if (set_cookie.empty()) {
    if (cookie_sent.empty()) {
      a.step = Approach::no_affinity;
      return a;
    }
    dial_without_cookie_ = true;  // our cookie led elsewhere without a new one: ask afresh
    a.step = Approach::redial_without_cookie;
    return a;
  }
  a.step = Approach::elect;
  a.next = store::HubRecord{a.epoch + 1, set_cookie, challenge_id, 0};
  return a;
}

std::chrono::milliseconds MemberCore::after_attempt(bool joined) {
  if (joined || retry_now_) {
    retry_now_ = false;
    backoff_ = 0ms;
    return 0ms;
  }
  backoff_ = std::min<std::chrono::milliseconds>(1000ms, backoff_ == 0ms ? 50ms : backoff_ * 2);
  return backoff_;
}

Hello MemberCore::make_hello(const std::string& hub_id, std::int64_t epoch, std::string nonce) {
  // The session's received count carries over only to the same hub.
  hello_hub_ = hub_id;
  hello_session_ = hub_id + "#" + std::to_string(epoch);
  hello_received_ = hello_session_ == hub_session_ ? received_ : 0;
  return Hello{id_,   stream_,         std::move(nonce), {},
               epoch, hello_received_, hub_id_,          {members_.begin(), members_.end()}};
}

void MemberCore::on_welcome(const Welcome& welcome) {
  if (!welcome.resumed) received_ = hello_received_;
  hub_session_ = hello_hub_ + "#" + std::to_string(welcome.epoch);
  if (hello_session_ != hub_session_) received_ = 0;
  hub_id_ = welcome.id;
  set_members(welcome.members);
  connected_ = true;
  for (const auto& topic : topics_)
    send(std::make_shared<const std::string>(encode_control(FrameType::subscribe, 0, topic)));
  // "Synced": the hub knows our subscriptions once it reads this.
  ack_now();
  // Everything not acknowledged goes again, in order; receivers drop
  // duplicates. A resumed session already has its prefix up to `have`.
  for (const auto& out : window_) {
    if (welcome.resumed && out.seq <= welcome.have) continue;
    send(out.bytes);
    ++counts_.resent;
  }
}

LinkState MemberCore::on_message(std::string_view message, std::int64_t now_ms) {
  bool stepdown = false;
  FrameReader reader(message);
  while (auto f = reader.next_view()) {
    ++received_;
    if (f->type == FrameType::stepdown) {
      log()->info("hub {} stepped down (epoch {} is newer)", hub_id_, f->seq);
      stepdown = true;
      break;
    }
    handle(*f, now_ms);
  }
  if (!reader.error().empty()) {
    log()->warn("bad frame from the hub: {}; rejoining", reader.error());
    return LinkState::bad_frame;
  }
  if (stepdown || config_.ack_delay.count() <= 0 || received_ - ack_sent_ >= ack_every())
    ack_now();
  else if (!ack_due_ms_)
    ack_due_ms_ = now_ms + config_.ack_delay.count();
  return stepdown ? LinkState::stepdown : LinkState::open;
}

void MemberCore::ack_now() {
  ack_due_ms_.reset();
  ack_sent_ = received_;
  send(std::make_shared<const std::string>(encode_control(FrameType::ack, received_)));
}

std::uint64_t MemberCore::ack_every() const {
  return std::clamp<std::uint64_t>(config_.member_queue / 4, 1, 1024);
}

void MemberCore::on_tick(std::int64_t now_ms) {
  if (ack_due_ms_ && now_ms >= *ack_due_ms_ && connected_) ack_now();
}

void MemberCore::handle(const FrameView& f, std::int64_t now_ms) {
  switch (f.type) {
    case FrameType::deliver: {
      if (!dedup_.accept(f.stream, f.seq, now_ms)) {
        ++counts_.duplicates_dropped;
        return;
      }
      ++counts_.delivered;
      // The one copy of the payload on this hop: out of the read buffer into
      // the frame the app's Message takes over.
      MemberAction a{MemberAction::deliver, {}, to_frame(f), {}};
      actions_.push_back(std::move(a));
      break;
    }
    case FrameType::acked: acked(f.seq); break;
    case FrameType::joined:
      if (members_.emplace(f.target).second) emit(MemberAction::joined, std::string(f.target));
      emit(MemberAction::members);
      break;
    case FrameType::left:
      if (members_.erase(std::string(f.target))) emit(MemberAction::left, std::string(f.target));
      emit(MemberAction::members);
      break;
    default: break;
  }
}

void MemberCore::set_members(const std::vector<std::string>& ids) {
  std::set<std::string> now(ids.begin(), ids.end());
  for (const auto& id : members_)
    if (!now.count(id)) emit(MemberAction::left, id);
  for (const auto& id : now)
    if (!members_.count(id)) emit(MemberAction::joined, id);
  members_ = std::move(now);
  emit(MemberAction::members);
}

void MemberCore::acked(std::uint64_t seq) {
  if (seq <= acked_seq_) return;
  acked_seq_ = seq;
  while (!window_.empty() && window_.front().seq <= seq) {
    window_bytes_ -= window_.front().payload_bytes;
    window_.pop_front();
  }
  emit(MemberAction::room);
}

bool MemberCore::has_room() const {
  return window_.size() < config_.window && window_bytes_ < config_.window_bytes;
}

Submit MemberCore::submit(Kind kind, std::string target, std::string topic,
                          std::uint64_t correlation, std::string payload) {
  if (stopping_) return Submit::stopped;
  if (payload.size() > config_.max_message_bytes) return Submit::too_large;
  if (!has_room()) return Submit::window_full;
  Frame f;
  f.type = FrameType::data;
  f.kind = kind;
  f.seq = next_seq_++;
  f.correlation = correlation;
  f.target = std::move(target);
  f.topic = std::move(topic);
  f.payload = std::move(payload);
  std::string bytes;
  bytes.reserve(encoded_size(f));
  append_frame(bytes, f);
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  window_.push_back({f.seq, f.payload.size(), shared});
  window_bytes_ += f.payload.size();
  ++counts_.published;
  if (!connected_) return Submit::ok;
  // A gathered ack that is waiting rides along in the same write.
  if (ack_due_ms_) ack_now();
  send(std::move(shared));
  return Submit::ok;
}

void MemberCore::subscribe(const std::string& topic) {
  if (!topics_.insert(topic).second || !connected_) return;
  send(std::make_shared<const std::string>(encode_control(FrameType::subscribe, 0, topic)));
}

void MemberCore::unsubscribe(const std::string& topic) {
  if (!topics_.erase(topic) || !connected_) return;
  send(std::make_shared<const std::string>(encode_control(FrameType::unsubscribe, 0, topic)));
}

void MemberCore::stop() {
  stopping_ = true;
  if (connected_) send(std::make_shared<const std::string>(encode_control(FrameType::bye)));
}

}  // namespace tether::mesh::detail
