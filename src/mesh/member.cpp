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
      core_(config, id_, id_ + "/" + net::random_hex(8)),
      store_(store),
      counters_(counters),
      callbacks_(std::move(callbacks)),
      tls_(make_client_tls(config.insecure_tls)),
      nap_(executor),
      ack_timer_(executor) {}

Member::~Member() = default;

void Member::start() { asio::co_spawn(executor_, run(shared_from_this()), asio::detached); }

asio::awaitable<void> Member::sleep(std::chrono::milliseconds d) {
  nap_.expires_after(d);
  co_await nap_.async_wait(use_nothrow);
}

void Member::execute() {
  for (auto& a : core_.take_actions()) {
    switch (a.type) {
      case detail::MemberAction::send:
        if (link_) link_->send(std::move(a.bytes));
        break;
      case detail::MemberAction::deliver:
        if (callbacks_.deliver) callbacks_.deliver(a.frame);
        break;
      case detail::MemberAction::joined:
        if (callbacks_.membership) callbacks_.membership({MemberEvent::joined, a.instance_id});
        break;
      case detail::MemberAction::left:
        if (callbacks_.membership) callbacks_.membership({MemberEvent::left, a.instance_id});
        break;
      case detail::MemberAction::members:
        counters_.members.assign(core_.members().begin(), core_.members().end());
        break;
      case detail::MemberAction::room: wake_waiters(); break;
    }
  }
  const auto& c = core_.counts();
  counters_.published = c.published;
  counters_.delivered = c.delivered;
  counters_.duplicates_dropped = c.duplicates_dropped;
  counters_.resent = c.resent;
  counters_.unacked = core_.unacked();
  if (!ack_loop_running_ && core_.next_deadline_ms())
    asio::co_spawn(executor_, ack_loop(shared_from_this()), asio::detached);
}

namespace {
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

asio::awaitable<void> Member::ack_loop(std::shared_ptr<Member> self) {
  self->ack_loop_running_ = true;
  while (auto due = self->core_.next_deadline_ms()) {
    self->ack_timer_.expires_at(
        std::chrono::steady_clock::time_point(std::chrono::milliseconds(*due)));
    co_await self->ack_timer_.async_wait(use_nothrow);
    self->core_.on_tick(steady_ms());
    self->execute();
  }
  self->ack_loop_running_ = false;
}

// Joins, serves the link until it breaks, and joins again, until stopped.
asio::awaitable<void> Member::run(std::shared_ptr<Member> self) {
  while (!self->core_.stopping()) {
    bool joined = co_await self->join_once();
    if (self->core_.stopping()) break;
    auto backoff = self->core_.after_attempt(joined);
    if (backoff == 0ms) continue;
    // Jittered: half the backoff plus up to half again.
    auto jitter = std::chrono::milliseconds(
        net::random_below(static_cast<std::uint64_t>(backoff.count() / 2 + 1)));
    co_await self->sleep(backoff / 2 + jitter);
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
  std::string cookie = core_.cookie_for(rec);
  DialResult dialed;
  // The store names this instance: its hub is here, no front door hop.
  if (rec && rec->hub_id == id_ && !cookie.empty() && callbacks_.own_hub)
    dialed.socket = callbacks_.own_hub();
  const bool in_process = dialed.socket != nullptr;
  if (!dialed.socket)
    dialed = co_await dial(executor_, config_.public_url, cookie, tls_.get(), config_.liveness,
                           std::max(config_.liveness * 5, Millis{5'000}));
  if (!dialed.socket) {
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
  auto link = std::make_shared<Link>(executor_, std::move(dialed.socket));
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

  auto approach = core_.approach(rec, challenge->id, dialed.set_cookie, cookie);
  std::int64_t epoch = approach.epoch;
  if (approach.step != detail::Approach::join) {
    // ELECTING: the front door sent us to `challenge->id`; make it the hub.
    counters_.role = "electing";
    if (approach.step == detail::Approach::no_affinity) {
      co_await link->abort();
      log()->error(
          "the front door at {} set no affinity cookie: the mesh needs session "
          "affinity on (ARRAffinity); is it off for the site?",
          config_.public_url);
      co_return false;
    }
    if (approach.step == detail::Approach::redial_without_cookie) {
      co_await link->abort();
      co_return false;
    }
    bool won = false, store_failed = false;
    try {
      won = co_await store_.compare_and_set(epoch, approach.next);
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
      core_.election_lost();  // the winner is in the store now
      co_return false;
    }
    ++counters_.elections_won;
    epoch = approach.next.epoch;
    cached_ = approach.next;
    log()->info("elected {} hub of epoch {}", challenge->id, epoch);
    if (challenge->id == id_ && callbacks_.own_hub) {
      // The front door sent us to ourselves: join our own hub in process.
      co_await link->abort();
      core_.elected_itself();
      co_return false;
    }
  }

  Hello hello = core_.make_hello(challenge->id, epoch, make_nonce());
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
  ++counters_.joins;
  counters_.epoch = welcome->epoch;
  counters_.hub_id = welcome->id;
  counters_.role = "member";
  counters_.link = in_process ? "local" : "front door";
  log()->info("joined hub {} (epoch {}, {} members{})", welcome->id, welcome->epoch,
              welcome->members.size(), welcome->resumed ? ", resumed" : "");
  link_ = link;
  core_.on_welcome(*welcome);
  execute();
  co_await serve_link(link);
  co_return true;
}

asio::awaitable<void> Member::serve_link(std::shared_ptr<Link> link) {
  while (true) {
    auto msg = co_await link->receive_view();
    if (!msg) break;
    auto state = core_.on_message(*msg, steady_ms());
    execute();
    if (state != detail::LinkState::open) break;
  }
  link_ = nullptr;
  counters_.link.clear();
  core_.on_link_lost();
  if (!core_.stopping())
    log()->info("lost the hub {} (epoch {}{}{}); rejoining", counters_.hub_id, counters_.epoch,
                link->error().empty() ? "" : ": ", link->error());
  co_await link->abort();
}

void Member::wake_waiters() {
  for (auto* t : room_waiters_) t->cancel();
}

namespace {
SendStatus to_status(detail::Submit s) {
  switch (s) {
    case detail::Submit::ok: return SendStatus::ok;
    case detail::Submit::window_full: return SendStatus::window_full;
    case detail::Submit::too_large: return SendStatus::too_large;
    case detail::Submit::stopped: return SendStatus::stopped;
  }
  return SendStatus::stopped;
}
}  // namespace

SendStatus Member::submit(Kind kind, std::string target, std::string topic,
                          std::uint64_t correlation, std::string payload) {
  auto status =
      core_.submit(kind, std::move(target), std::move(topic), correlation, std::move(payload));
  execute();
  return to_status(status);
}

asio::awaitable<bool> Member::wait_for_room(std::chrono::steady_clock::time_point deadline) {
  while (!core_.has_room()) {
    if (core_.stopping() || std::chrono::steady_clock::now() >= deadline) co_return false;
    // A room action cancels every registered waiter's timer: each re-checks.
    asio::steady_timer wait(executor_, deadline);
    room_waiters_.insert(&wait);
    co_await wait.async_wait(use_nothrow);
    room_waiters_.erase(&wait);
  }
  co_return true;
}

void Member::subscribe(const std::string& topic) {
  core_.subscribe(topic);
  execute();
}

void Member::unsubscribe(const std::string& topic) {
  core_.unsubscribe(topic);
  execute();
}

asio::awaitable<void> Member::stop(std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (core_.unacked() > 0 && link_ && std::chrono::steady_clock::now() < deadline) {
    asio::steady_timer wait(executor_);
    wait.expires_after(20ms);
    co_await wait.async_wait(use_nothrow);
  }
  core_.stop();
  nap_.cancel();
  execute();  // the bye, when connected
  if (auto link = link_) co_await link->close();
  counters_.role = "stopped";
}

}  // namespace tether::mesh
