#include "tether/mesh/hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "tether/mesh/auth.hpp"
#include "tether/mesh/handshake.hpp"
#include "tether/net/log.hpp"
#include "tether/net/random.hpp"

namespace tether::mesh {

namespace json = boost::json;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {
std::shared_ptr<spdlog::logger> log() {
  static auto l = net::logger("mesh.hub");
  return l;
}
}  // namespace

Hub::Hub(asio::any_io_executor executor, const MeshConfig& config, std::string instance_id,
         StoreRunner& store, BackplaneStatus& counters)
    : executor_(executor),
      config_(config),
      id_(std::move(instance_id)),
      store_(store),
      counters_(counters),
      settle_timer_(executor),
      hub_stream_("hub:" + id_ + "/" + net::random_hex(8)) {}

asio::awaitable<void> Hub::serve(std::shared_ptr<Hub> hub, boost::beast::tcp_stream& stream,
                                 http::Request req) {
  auto transport = co_await accept(stream, std::move(req), hub->config_.liveness, hub->id_);
  if (!transport) co_return;
  auto link = std::make_shared<Link>(hub->executor_, std::move(transport));
  link->start();
  auto nonce = make_nonce();
  link->send_text(challenge_json({hub->id_, nonce, hub->epoch_}));

  SessionPtr s = co_await hub->admit(link, nonce);
  if (!s) {
    co_await link->close();
    co_return;
  }
  link->set_read_limit(Link::read_limit_after_hello(hub->config_.max_message_bytes));
  auto generation = s->link_generation;
  while (true) {
    auto msg = co_await link->receive();
    if (!msg) break;
    if (s->released || s->link_generation != generation) break;
    FrameReader reader(*msg);
    while (auto f = reader.next()) hub->handle(s, *f);
    if (!s->synced) {
      s->synced = true;
      hub->end_settling_if_ready();
    }
    if (!reader.error().empty()) {
      log()->warn("member {} sent a bad frame: {}; closing", s->instance_id, reader.error());
      break;
    }
    hub->flush_acks();
  }
  co_await link->abort();
  if (s->link_generation == generation && !s->released) {
    s->link = nullptr;
    if (s->bye) {
      hub->release(s, "said goodbye");
    } else {
      // Keep its queue for rejoin_grace: a member that comes back resumes.
      s->grace = std::make_unique<asio::steady_timer>(hub->executor_);
      asio::co_spawn(hub->executor_, grace_expiry(hub, s, generation), asio::detached);
    }
  }
}

asio::awaitable<Hub::SessionPtr> Hub::admit(std::shared_ptr<Link> link, const std::string& nonce) {
  // The hello must come soon: strangers and browsers are not kept around.
  auto deadline = std::make_shared<asio::steady_timer>(executor_);
  deadline->expires_after(std::max(config_.liveness * 5, Millis{5'000}));
  asio::co_spawn(executor_, hello_deadline(link, deadline), asio::detached);
  bool text = false;
  auto msg = co_await link->receive(&text);
  deadline->cancel();
  auto peer = link->peer();
  if (!msg) {
    log()->debug("a mesh connection from {} closed before its hello", peer);
    co_return nullptr;
  }
  auto hello = text ? parse_hello(*msg) : std::nullopt;
  if (!hello) {
    ++counters_.auth_refused;
    log()->warn("refused a mesh connection from {}: not a mesh hello", peer);
    link->send_text(refused_json("expected a hello"));
    co_return nullptr;
  }
  if (!mac_equal(hello->mac, hello_mac(config_.key, nonce, *hello))) {
    ++counters_.auth_refused;
    log()->warn("refused mesh member {} from {}: wrong key (MAC mismatch)", hello->id, peer);
    link->send_text(refused_json("authentication failed"));
    co_return nullptr;
  }
  if (hello->epoch > epoch_) {
    bool mine = false;
    try {
      mine = co_await confirm_epoch(hello->epoch);
    } catch (const std::exception& e) {
      ++counters_.store_errors;
      log()->warn("cannot confirm epoch {} for {}: store: {}", hello->epoch, hello->id, e.what());
      link->send_text(refused_json("store unavailable"));
      co_return nullptr;
    }
    if (!mine) {
      link->send_text(refused_json("not the hub of epoch " + std::to_string(hello->epoch)));
      co_return nullptr;
    }
  }
  if (epoch_ == 0) {
    link->send_text(refused_json("not a hub"));
    co_return nullptr;
  }
  if (settling_) expect(*hello);

  // Resume the member's session if it is the same stream, else start afresh.
  SessionPtr s = find(hello->id);
  bool resumed = false;
  if (s && s->stream == hello->stream) {
    resumed = true;
    if (s->link) {
      auto old = s->link;
      s->link = nullptr;
      old->abort_now();
    }
    if (s->grace) s->grace->cancel();
    while (!s->unacked.empty() && s->unacked.front().number <= hello->received) {
      auto out = std::move(s->unacked.front());
      s->unacked.pop_front();
      if (out.sender) settle(out.sender, out.sender_seq);
    }
  } else {
    if (s) release(s, "rejoined as a new process");
    s = std::make_shared<Session>();
    s->instance_id = hello->id;
    s->stream = hello->stream;
    sessions_[s->instance_id] = s;
  }
  s->link = link;
  ++s->link_generation;
  s->released = false;

  json::array members;
  for (const auto& [id, other] : sessions_) members.push_back(json::value(id));
  link->send_text(json::serialize(json::object{
      {"t", "welcome"}, {"id", id_}, {"epoch", epoch_}, {"resumed", resumed},
      {"members", std::move(members)},
      {"mac", hmac_hex(config_.key, welcome_text(hello->nonce, id_, epoch_))}}));
  if (resumed) {
    for (const auto& out : s->unacked) link->send(out.bytes);
    log()->info("member {} resumed ({} frames replayed)", s->instance_id, s->unacked.size());
  } else {
    s->frames = hello->received;  // a fresh session counts from what the member says
    auto joined = std::make_shared<const std::string>(
        encode_control(FrameType::joined, 0, s->instance_id));
    for (const auto& [id, other] : sessions_)
      if (other != s) enqueue(other, joined, nullptr, 0);
    log()->info("member {} joined (epoch {}, {} members)", s->instance_id, epoch_,
                sessions_.size());
  }
  flush_acks();
  co_return s;
}

asio::awaitable<void> Hub::hello_deadline(std::shared_ptr<Link> link,
                                          std::shared_ptr<asio::steady_timer> timer) {
  auto [ec] = co_await timer->async_wait(use_nothrow);
  if (!ec) link->abort_now();
}

asio::awaitable<bool> Hub::confirm_epoch(std::int64_t epoch) {
  auto rec = co_await store_.read();
  if (!rec) co_return false;
  if (rec->epoch == epoch && rec->hub_id == id_) {
    if (epoch > epoch_) become_hub(epoch);
    co_return true;
  }
  if (rec->epoch > epoch_ && rec->hub_id != id_ && epoch_ > 0) step_down(rec->epoch);
  co_return false;
}

void Hub::become_hub(std::int64_t epoch) {
  bool was_hub = epoch_ > 0;
  epoch_ = epoch;
  log()->info("instance {} is the hub of epoch {}", id_, epoch);
  if (was_hub) return;  // a newer epoch for the same hub: members stay
  // Epoch 1 has no previous epoch whose members could miss anything.
  settling_ = epoch > 1;
  informed_ = false;
  expected_.clear();
  if (settling_)
    asio::co_spawn(executor_, settle_deadline(shared_from_this(), epoch), asio::detached);
  asio::co_spawn(executor_, store_check_loop(shared_from_this()), asio::detached);
}

void Hub::expect(const Hello& hello) {
  if (!hello.previous_members.empty()) informed_ = true;
  for (const auto& m : hello.previous_members)
    if (m != hello.previous_hub) expected_.insert(m);
  expected_.insert(hello.id);
}

void Hub::end_settling_if_ready() {
  if (!settling_ || !informed_) return;
  for (const auto& id : expected_) {
    auto s = find(id);
    if (!s || !s->synced) return;
  }
  settling_ = false;
  settle_timer_.cancel();
  log()->info("epoch {}: {} members back; relaying {} held messages", epoch_, expected_.size(),
              held_.size());
  auto held = std::move(held_);
  held_.clear();
  for (auto& [from, f] : held)
    if (!from->released) route(from, f);
  flush_acks();
}

asio::awaitable<void> Hub::settle_deadline(std::shared_ptr<Hub> hub, std::int64_t epoch) {
  hub->settle_timer_.expires_after(hub->config_.rejoin_grace);
  auto [ec] = co_await hub->settle_timer_.async_wait(use_nothrow);
  if (ec || !hub->settling_ || hub->epoch_ != epoch) co_return;
  std::string missing;
  for (const auto& id : hub->expected_) {
    auto s = hub->find(id);
    if (!s || !s->synced) missing += (missing.empty() ? "" : ", ") + id.substr(0, 16);
  }
  log()->info("epoch {}: not back within rejoin_grace: {}", epoch, missing);
  hub->expected_.clear();
  hub->informed_ = true;  // waited long enough for anyone who knew more
  hub->end_settling_if_ready();
}

void Hub::step_down(std::int64_t newer_epoch) {
  settling_ = false;
  held_.clear();
  settle_timer_.cancel();
  log()->info("stepping down: the store names another hub at epoch {} (ours {})", newer_epoch,
              epoch_);
  epoch_ = 0;
  auto shared = std::make_shared<const std::string>(
      encode_control(FrameType::stepdown, static_cast<std::uint64_t>(newer_epoch)));
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [id, s] : sessions) {
    s->released = true;
    s->unacked.clear();  // entries hold their senders' sessions: break the cycles
    s->pending.clear();
    if (s->grace) s->grace->cancel();
    if (s->link) {
      s->link->send(shared);
      s->link->finish();
    }
  }
}

void Hub::shutdown() {
  epoch_ = 0;
  settling_ = false;
  held_.clear();
  dirty_.clear();
  for (auto& [id, s] : sessions_) {
    s->released = true;
    s->unacked.clear();  // entries hold their senders' sessions: break the cycles
    s->pending.clear();
    if (s->grace) s->grace->cancel();
    if (s->link) s->link->abort_now();
  }
  sessions_.clear();
}

asio::awaitable<void> Hub::store_check_loop(std::shared_ptr<Hub> hub) {
  asio::steady_timer timer(hub->executor_);
  bool outage_logged = false;
  while (hub->epoch_ > 0) {
    timer.expires_after(hub->config_.store_check);
    co_await timer.async_wait(use_nothrow);
    if (hub->epoch_ == 0) break;
    try {
      auto rec = co_await hub->store_.read();
      if (outage_logged) log()->info("store reachable again");
      outage_logged = false;
      if (!rec || hub->epoch_ == 0) continue;
      if (rec->epoch > hub->epoch_) {
        if (rec->hub_id == hub->id_)
          hub->epoch_ = rec->epoch;
        else
          hub->step_down(rec->epoch);
      }
    } catch (const std::exception& e) {
      ++hub->counters_.store_errors;
      if (!outage_logged)
        log()->warn("hub cannot read the store ({}); relaying on as hub of epoch {}", e.what(),
                    hub->epoch_);
      outage_logged = true;
    }
  }
}

asio::awaitable<void> Hub::grace_expiry(std::shared_ptr<Hub> hub, SessionPtr s,
                                        std::uint64_t generation) {
  s->grace->expires_after(hub->config_.rejoin_grace);
  auto [ec] = co_await s->grace->async_wait(use_nothrow);
  if (ec || s->released || s->link || s->link_generation != generation) co_return;
  hub->release(s, "did not come back within rejoin_grace");
  hub->flush_acks();
}

Hub::SessionPtr Hub::find(const std::string& instance_id) const {
  auto it = sessions_.find(instance_id);
  return it == sessions_.end() ? nullptr : it->second;
}

void Hub::handle(const SessionPtr& s, Frame& f) {
  switch (f.type) {
    case FrameType::data:
      if (settling_)
        held_.emplace_back(s, std::move(f));
      else
        route(s, f);
      break;
    case FrameType::ack:
      on_ack(s, f.seq);
      break;
    case FrameType::subscribe:
      s->topics.insert(f.topic);
      break;
    case FrameType::unsubscribe:
      s->topics.erase(f.topic);
      break;
    case FrameType::bye:
      s->bye = true;
      break;
    default:
      log()->warn("member {} sent a hub-to-member frame type {}; ignored", s->instance_id,
                  static_cast<int>(f.type));
  }
}

void Hub::route(const SessionPtr& from, Frame& f) {
  if (f.payload.size() > config_.max_message_bytes) {
    log()->warn("member {} sent {} bytes (max_message_bytes {}); dropped", from->instance_id,
                f.payload.size(), config_.max_message_bytes);
    ++counters_.undeliverable;
    from->pending.try_emplace(f.seq, 0);  // no receiver: done at once
    settle(from, f.seq);
    return;
  }
  std::vector<SessionPtr> to;
  switch (f.kind) {
    case Kind::publish:
      for (const auto& [id, s] : sessions_)
        if (s->topics.count(f.target)) to.push_back(s);
      break;
    case Kind::broadcast:
      for (const auto& [id, s] : sessions_) to.push_back(s);
      break;
    default:
      if (auto s = find(f.target)) to.push_back(s);
      break;
  }
  if (to.empty() && f.kind != Kind::publish && f.kind != Kind::broadcast) {
    ++counters_.undeliverable;
    if (f.kind == Kind::request) reply_error(from, f, "no such instance: " + f.target);
  }
  Frame d;
  d.type = FrameType::deliver;
  d.kind = f.kind;
  d.seq = f.seq;
  d.correlation = f.correlation;
  d.stream = from->stream;
  d.origin = from->instance_id;
  d.target = std::move(f.target);
  d.topic = std::move(f.topic);
  d.payload = std::move(f.payload);
  std::string bytes;
  bytes.reserve(encoded_size(d));
  append_frame(bytes, d);
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  from->pending[f.seq] += static_cast<std::uint32_t>(to.size());
  for (const auto& s : to) enqueue(s, shared, from, f.seq);
  // No receiver (or only released ones, settled inside enqueue): done now.
  if (auto it = from->pending.find(f.seq); it != from->pending.end() && it->second == 0)
    settle(from, f.seq);
}

void Hub::reply_error(const SessionPtr& to, const Frame& request, const std::string& error) {
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
  enqueue(to, std::make_shared<const std::string>(std::move(bytes)), nullptr, 0);
}

void Hub::enqueue(const SessionPtr& to, Link::Bytes bytes, const SessionPtr& sender,
                  std::uint64_t sender_seq) {
  if (to->released) {
    if (sender) settle(sender, sender_seq);
    return;
  }
  to->unacked.push_back({++to->frames, bytes, sender, sender_seq});
  if (to->link) to->link->send(std::move(bytes));
  if (to->unacked.size() > config_.member_queue) cut_off(to);
}

void Hub::on_ack(const SessionPtr& s, std::uint64_t count) {
  while (!s->unacked.empty() && s->unacked.front().number <= count) {
    auto out = std::move(s->unacked.front());
    s->unacked.pop_front();
    if (out.sender) settle(out.sender, out.sender_seq);
  }
}

// One receiver is done with `sender`'s message `seq` (or it had none).
void Hub::settle(const SessionPtr& sender, std::uint64_t seq) {
  auto it = sender->pending.find(seq);
  if (it == sender->pending.end()) return;
  if (it->second > 0) --it->second;
  bool moved = false;
  while (!sender->pending.empty() && sender->pending.begin()->second == 0) {
    sender->acked_seq = std::max(sender->acked_seq, sender->pending.begin()->first);
    sender->pending.erase(sender->pending.begin());
    moved = true;
  }
  if (moved && !sender->ack_dirty && !sender->released) {
    sender->ack_dirty = true;
    dirty_.push_back(sender);
  }
}

void Hub::flush_acks() {
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (auto& s : dirty) {
    s->ack_dirty = false;
    if (s->released) continue;
    enqueue(s, std::make_shared<const std::string>(encode_control(FrameType::acked, s->acked_seq)),
            nullptr, 0);
  }
}

void Hub::release(const SessionPtr& s, const char* why) {
  if (s->released) return;
  s->released = true;
  if (s->grace) s->grace->cancel();
  auto it = sessions_.find(s->instance_id);
  if (it != sessions_.end() && it->second == s) sessions_.erase(it);
  auto unacked = std::move(s->unacked);
  s->unacked.clear();
  for (auto& out : unacked)
    if (out.sender) settle(out.sender, out.sender_seq);
  if (s->link) s->link->abort_now();
  s->link = nullptr;
  log()->info("member {} left: {} ({} members)", s->instance_id, why, sessions_.size());
  auto left =
      std::make_shared<const std::string>(encode_control(FrameType::left, 0, s->instance_id));
  for (const auto& [id, other] : sessions_) enqueue(other, left, nullptr, 0);
}

void Hub::cut_off(const SessionPtr& s) {
  ++counters_.members_cut_off;
  log()->warn("member {} cannot keep up ({} frames unacknowledged, member_queue {}): cut off",
              s->instance_id, s->unacked.size(), config_.member_queue);
  release(s, "cut off");
}

}  // namespace tether::mesh
