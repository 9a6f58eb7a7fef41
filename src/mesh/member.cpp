#include "tether/mesh/member.hpp"

// GCC 12 reports -Wmismatched-new-delete for some Asio coroutine frames: it
// pairs the frame's aligned_alloc with operator delete without seeing that
// Asio's awaitable_frame_base::operator delete calls aligned_delete. A false
// positive (docs/core-principles.md); silenced for this file only.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tether/mesh/auth.hpp"
#include "tether/mesh/handshake.hpp"
#include "tether/mesh/transport.hpp"
#include "tether/net/log.hpp"
#include "tether/net/random.hpp"

namespace tether::mesh {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
using namespace std::chrono_literals;

namespace {
std::shared_ptr<spdlog::logger> log() {
  static auto l = net::logger("mesh");
  return l;
}
}  // namespace

Member::Member(asio::any_io_executor executor, const MeshConfig& config, std::string instance_id,
               StoreRunner& store, BackplaneStatus& counters, Callbacks callbacks)
    : executor_(executor),
      config_(config),
      id_(std::move(instance_id)),
      stream_(id_ + "/" + net::random_hex(8)),
      store_(store),
      counters_(counters),
      callbacks_(std::move(callbacks)),
      tls_(make_client_tls(config.insecure_tls)),
      nap_(executor) {}

Member::~Member() = default;

void Member::start() { asio::co_spawn(executor_, run(shared_from_this()), asio::detached); }

asio::awaitable<void> Member::sleep(std::chrono::milliseconds d) {
  nap_.expires_after(d);
  co_await nap_.async_wait(use_nothrow);
}

// Joins, serves the link until it breaks, and joins again, until stopped.
asio::awaitable<void> Member::run(std::shared_ptr<Member> self) {
  while (!self->stopping_) {
    bool joined = co_await self->join_once();
    if (self->stopping_) break;
    if (joined || self->retry_now_) {
      self->retry_now_ = false;
      self->backoff_ = 0ms;
      continue;
    }
    // Jittered backoff: 50 ms doubling to 1 s.
    self->backoff_ = std::min<std::chrono::milliseconds>(
        1000ms, self->backoff_ == 0ms ? 50ms : self->backoff_ * 2);
    auto jitter = std::chrono::milliseconds(net::random_below(
        static_cast<std::uint64_t>(self->backoff_.count() / 2 + 1)));
    co_await self->sleep(self->backoff_ / 2 + jitter);
  }
  self->wake_waiters();
}

// One pass of JOINING (and ELECTING when re-pinned). True when a link was
// established and served (it has ended now); false to back off.
asio::awaitable<bool> Member::join_once() {
  counters_.role = "joining";
  std::optional<store::HubRecord> rec;
  try {
    rec = co_await store_.read();
    cached_ = rec;
    if (store_outage_logged_) log()->info("store {} reachable again", store_.describe());
    store_outage_logged_ = false;
  } catch (const std::exception& e) {
    ++counters_.store_errors;
    if (!store_outage_logged_)
      log()->warn("cannot read the hub record ({}); {}", e.what(),
                  cached_ ? "trying the last one read" : "waiting for the store");
    store_outage_logged_ = true;
    rec = cached_;
    if (!rec) co_return false;
  }
  std::string cookie = rec && !dial_without_cookie_ ? rec->cookie : std::string();
  dial_without_cookie_ = false;
  auto dialed = co_await dial(executor_, config_.public_url, cookie, tls_.get(), config_.liveness,
                              std::max(config_.liveness * 5, Millis{5'000}));
  if (!dialed.transport) {
    // Before the first join a 503 is the front door routing to no instance
    // yet (this one and its peers are still being health-checked): expected
    // while a plan starts, so said once, quietly.
    if (counters_.joins == 0 && dialed.status == 503) {
      if (!waiting_logged_)
        log()->info("the front door at {} routes to no instance yet (HTTP 503); retrying",
                    config_.public_url);
      waiting_logged_ = true;
    } else {
      log()->warn("cannot reach the front door at {}: {}", config_.public_url, dialed.error);
    }
    co_return false;
  }
  auto link = std::make_shared<Link>(executor_, std::move(dialed.transport));
  link->start();
  bool text = false;
  auto first = co_await link->receive(&text);
  auto challenge = first && text ? parse_challenge(*first) : std::nullopt;
  if (!challenge) {
    log()->warn("{} did not answer with a mesh challenge; is /.tether/mesh routed to tether "
                "instances?", config_.public_url);
    co_await link->abort();
    co_return false;
  }

  std::int64_t epoch = rec ? rec->epoch : 0;
  if (!rec || challenge->id != rec->hub_id) {
    // ELECTING: the front door sent us to `challenge->id`; make it the hub.
    counters_.role = "electing";
    std::string their_cookie = dialed.set_cookie;
    if (their_cookie.empty()) {
      co_await link->abort();
      if (cookie.empty()) {
        log()->error("the front door at {} set no affinity cookie: the mesh needs session "
                     "affinity on (ARRAffinity); is it off for the site?", config_.public_url);
        co_return false;
      }
      dial_without_cookie_ = true;  // our cookie led elsewhere without a new one: ask afresh
      co_return false;
    }
    store::HubRecord next{epoch + 1, their_cookie, challenge->id, 0};
    bool won = false, store_failed = false;
    try {
      won = co_await store_.compare_and_set(epoch, next);
    } catch (const std::exception& e) {
      ++counters_.store_errors;
      log()->warn("election waits for the store: {}", e.what());
      store_failed = true;
    }
    if (store_failed) {
      co_await link->abort();
      co_return false;
    }
    if (!won) {
      ++counters_.elections_lost;
      co_await link->abort();
      retry_now_ = true;  // the winner is in the store now
      co_return false;
    }
    ++counters_.elections_won;
    epoch = next.epoch;
    cached_ = next;
    log()->info("elected {} hub of epoch {}", challenge->id, epoch);
  }

  // Hello; the session's received count carries over only to the same hub.
  std::string session = challenge->id + "#" + std::to_string(epoch);
  Hello hello{id_, stream_, make_nonce(), {}, epoch, session == hub_session_ ? received_ : 0,
              counters_.hub_id, {members_.begin(), members_.end()}};
  link->send_text(hello_json(config_.key, challenge->nonce, hello));
  auto answer = co_await link->receive(&text);
  auto welcome = answer && text ? parse_welcome(*answer) : std::nullopt;
  if (!welcome || welcome->refused) {
    log()->warn("hub {} refused us: {}", challenge->id,
                welcome ? welcome->reason : "connection closed during the handshake");
    co_await link->abort();
    co_return false;
  }
  if (!mac_equal(welcome->mac,
                 hmac_hex(config_.key, welcome_text(hello.nonce, welcome->id, welcome->epoch)))) {
    ++counters_.auth_refused;
    log()->error("hub {} failed to prove the mesh key; not joining", challenge->id);
    co_await link->abort();
    co_return false;
  }
  if (!welcome->resumed) received_ = hello.received;
  hub_session_ = challenge->id + "#" + std::to_string(welcome->epoch);
  if (session != hub_session_) received_ = 0;
  ++counters_.joins;
  counters_.epoch = welcome->epoch;
  counters_.hub_id = welcome->id;
  counters_.role = "member";
  set_members(welcome->members);
  log()->info("joined hub {} (epoch {}, {} members{})", welcome->id, welcome->epoch,
              welcome->members.size(), welcome->resumed ? ", resumed" : "");
  co_await serve_link(link);
  co_return true;
}

asio::awaitable<void> Member::serve_link(std::shared_ptr<Link> link) {
  link_ = link;
  for (const auto& topic : topics_) link->send(encode_control(FrameType::subscribe, 0, topic));
  // "Synced": the hub knows our subscriptions once it reads this.
  link->send(encode_control(FrameType::ack, received_));
  // Everything not acknowledged goes again, in order; receivers drop duplicates.
  for (const auto& out : window_) link->send(out.bytes);
  counters_.resent += window_.size();
  bool stepdown = false;
  while (!stepdown) {
    auto msg = co_await link->receive();
    if (!msg) break;
    FrameReader reader(*msg);
    while (auto f = reader.next()) {
      ++received_;
      if (f->type == FrameType::stepdown) {
        log()->info("hub {} stepped down (epoch {} is newer)", counters_.hub_id, f->seq);
        stepdown = true;
        break;
      }
      handle(*f);
    }
    if (!reader.error().empty()) {
      log()->warn("bad frame from the hub: {}; rejoining", reader.error());
      break;
    }
    link->send(encode_control(FrameType::ack, received_));
  }
  link_ = nullptr;
  if (!stopping_) log()->info("lost the hub {} (epoch {}); rejoining", counters_.hub_id,
                              counters_.epoch);
  co_await link->abort();
}

void Member::handle(Frame& f) {
  switch (f.type) {
    case FrameType::deliver: {
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
      if (!dedup_.accept(f.stream, f.seq, now)) {
        ++counters_.duplicates_dropped;
        return;
      }
      ++counters_.delivered;
      if (callbacks_.deliver) callbacks_.deliver(f);
      break;
    }
    case FrameType::acked:
      acked(f.seq);
      break;
    case FrameType::joined:
      if (members_.insert(f.target).second && callbacks_.membership)
        callbacks_.membership({MemberEvent::joined, f.target});
      counters_.members.assign(members_.begin(), members_.end());
      break;
    case FrameType::left:
      if (members_.erase(f.target) && callbacks_.membership)
        callbacks_.membership({MemberEvent::left, f.target});
      counters_.members.assign(members_.begin(), members_.end());
      break;
    default:
      break;
  }
}

void Member::set_members(const std::vector<std::string>& ids) {
  std::set<std::string> now(ids.begin(), ids.end());
  for (const auto& id : members_)
    if (!now.count(id) && callbacks_.membership) callbacks_.membership({MemberEvent::left, id});
  for (const auto& id : now)
    if (!members_.count(id) && callbacks_.membership)
      callbacks_.membership({MemberEvent::joined, id});
  members_ = std::move(now);
  counters_.members.assign(members_.begin(), members_.end());
}

void Member::acked(std::uint64_t seq) {
  if (seq <= acked_seq_) return;
  acked_seq_ = seq;
  while (!window_.empty() && window_.front().seq <= seq) {
    window_bytes_ -= window_.front().payload_bytes;
    window_.pop_front();
  }
  counters_.unacked = window_.size();
  wake_waiters();
}

void Member::wake_waiters() {
  for (auto* t : room_waiters_) t->cancel();
}

bool Member::has_room() const {
  return window_.size() < config_.window && window_bytes_ < config_.window_bytes;
}

SendStatus Member::submit(Kind kind, std::string target, std::string topic,
                          std::uint64_t correlation, std::string payload) {
  if (stopping_) return SendStatus::stopped;
  if (payload.size() > config_.max_message_bytes) return SendStatus::too_large;
  if (!has_room()) return SendStatus::window_full;
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
  ++counters_.published;
  counters_.unacked = window_.size();
  if (link_) link_->send(std::move(shared));
  return SendStatus::ok;
}

asio::awaitable<bool> Member::wait_for_room(std::chrono::steady_clock::time_point deadline) {
  while (!has_room()) {
    if (stopping_ || std::chrono::steady_clock::now() >= deadline) co_return false;
    // acked() cancels every registered waiter's timer: each re-checks.
    asio::steady_timer wait(executor_, deadline);
    room_waiters_.insert(&wait);
    co_await wait.async_wait(use_nothrow);
    room_waiters_.erase(&wait);
  }
  co_return true;
}

void Member::subscribe(const std::string& topic) {
  if (!topics_.insert(topic).second || !link_) return;
  link_->send(encode_control(FrameType::subscribe, 0, topic));
}

void Member::unsubscribe(const std::string& topic) {
  if (!topics_.erase(topic) || !link_) return;
  link_->send(encode_control(FrameType::unsubscribe, 0, topic));
}

asio::awaitable<void> Member::stop(std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (!window_.empty() && link_ && std::chrono::steady_clock::now() < deadline) {
    asio::steady_timer wait(executor_);
    wait.expires_after(20ms);
    co_await wait.async_wait(use_nothrow);
  }
  stopping_ = true;
  nap_.cancel();
  if (auto link = link_) {
    link->send(encode_control(FrameType::bye));
    co_await link->close();
  }
  counters_.role = "stopped";
}

}  // namespace tether::mesh
