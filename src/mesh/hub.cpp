#include "tether/mesh/hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tether/mesh/auth.hpp"
#include "tether/mesh/handshake.hpp"
#include "tether/net/log.hpp"
#include "tether/net/random.hpp"

namespace tether::mesh {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;

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
      core_(config, id_, "hub:" + id_ + "/" + net::random_hex(8)),
      deadline_(executor) {}

asio::awaitable<void> Hub::serve(std::shared_ptr<Hub> hub, boost::beast::tcp_stream& stream,
                                 http::Request req) {
  auto transport = co_await accept(stream, std::move(req), hub->config_.liveness, hub->id_);
  if (transport) co_await serve_transport(std::move(hub), std::move(transport));
}

asio::awaitable<void> Hub::serve_transport(std::shared_ptr<Hub> hub,
                                           std::unique_ptr<WsTransport> transport) {
  auto link = std::make_shared<Link>(hub->executor_, std::move(transport));
  link->start();
  const detail::LinkId id = hub->next_link_++;
  hub->links_[id] = link;
  auto nonce = make_nonce();
  link->send_text(challenge_json({hub->id_, nonce, hub->core_.epoch()}));

  bool admitted = co_await hub->admit(id, link, nonce);
  if (!admitted) {
    hub->links_.erase(id);
    co_await link->close();
    co_return;
  }
  link->set_read_limit(Link::read_limit_after_hello(hub->config_.max_message_bytes));
  while (true) {
    auto msg = co_await link->receive_view();
    if (!msg) break;
    bool more = hub->core_.on_message(id, *msg, Clock::now());
    hub->execute();
    if (!more) break;
  }
  if (!link->error().empty())
    log()->debug("mesh link from {} ended: {}", link->peer(), link->error());
  co_await link->abort();
  hub->core_.on_link_lost(id, Clock::now());
  hub->execute();
  hub->links_.erase(id);
}

asio::awaitable<bool> Hub::admit(detail::LinkId id, std::shared_ptr<Link> link,
                                 const std::string& nonce) {
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
    co_return false;
  }
  auto hello = text ? parse_hello(*msg) : std::nullopt;
  if (!hello) {
    ++counters_.auth_refused;
    log()->warn("refused a mesh connection from {}: not a mesh hello", peer);
    link->send_text(refused_json("expected a hello"));
    co_return false;
  }
  if (!mac_equal(hello->mac, hello_mac(config_.key, nonce, *hello))) {
    ++counters_.auth_refused;
    log()->warn("refused mesh member {} from {}: wrong key (MAC mismatch)", hello->id, peer);
    link->send_text(refused_json("authentication failed"));
    co_return false;
  }
  if (hello->epoch > core_.epoch()) {
    std::optional<store::HubRecord> rec;
    try {
      rec = co_await store_.read();
    } catch (const std::exception& e) {
      ++counters_.store_errors;
      log()->warn("cannot confirm epoch {} for {}: store: {}", hello->epoch, hello->id, e.what());
      link->send_text(refused_json("store unavailable"));
      co_return false;
    }
    const bool was_hub = core_.epoch() > 0;
    const bool mine = core_.confirm_epoch(hello->epoch, rec, Clock::now());
    execute();
    if (!was_hub && core_.epoch() > 0)
      asio::co_spawn(executor_, store_check_loop(shared_from_this()), asio::detached);
    if (!mine) {
      link->send_text(refused_json("not the hub of epoch " + std::to_string(hello->epoch)));
      co_return false;
    }
  }
  const bool ok = core_.on_hello(id, *hello, Clock::now());
  execute();
  co_return ok;
}

asio::awaitable<void> Hub::hello_deadline(std::shared_ptr<Link> link,
                                          std::shared_ptr<asio::steady_timer> timer) {
  auto [ec] = co_await timer->async_wait(use_nothrow);
  if (!ec) link->abort_now();
}

void Hub::execute() {
  for (auto& a : core_.take_actions()) {
    auto it = links_.find(a.link);
    if (it == links_.end()) continue;
    auto& link = *it->second;
    switch (a.type) {
      case detail::HubAction::send: link.send(std::move(a.bytes)); break;
      case detail::HubAction::send_text: link.send_text(*a.bytes); break;
      case detail::HubAction::finish: link.finish(); break;
      case detail::HubAction::abort: link.abort_now(); break;
    }
  }
  counters_.members_cut_off = core_.counts().members_cut_off;
  counters_.undeliverable = core_.counts().undeliverable;
  counters_.resends_dropped = core_.counts().resends_dropped;
  if (core_.take_deadline_changed()) {
    if (deadline_running_)
      deadline_.cancel();  // the loop re-reads the next deadline
    else if (core_.next_deadline())
      asio::co_spawn(executor_, deadline_loop(shared_from_this()), asio::detached);
  }
}

// Sleeps until the core's next deadline and ticks it; ends when there is none.
asio::awaitable<void> Hub::deadline_loop(std::shared_ptr<Hub> hub) {
  hub->deadline_running_ = true;
  while (auto at = hub->core_.next_deadline()) {
    hub->deadline_.expires_at(*at);
    auto [ec] = co_await hub->deadline_.async_wait(use_nothrow);
    if (ec) continue;  // the deadline changed
    hub->core_.on_tick(Clock::now());
    hub->execute();
  }
  hub->deadline_running_ = false;
}

void Hub::shutdown() {
  core_.shutdown();
  execute();
}

asio::awaitable<void> Hub::store_check_loop(std::shared_ptr<Hub> hub) {
  asio::steady_timer timer(hub->executor_);
  bool outage_logged = false;
  while (hub->core_.epoch() > 0) {
    timer.expires_after(hub->config_.store_check);
    co_await timer.async_wait(use_nothrow);
    if (hub->core_.epoch() == 0) break;
    try {
      auto rec = co_await hub->store_.read();
      if (outage_logged) log()->info("store reachable again");
      outage_logged = false;
      hub->core_.on_store_record(rec);
      hub->execute();
    } catch (const std::exception& e) {
      ++hub->counters_.store_errors;
      if (!outage_logged)
        log()->warn("hub cannot read the store ({}); relaying on as hub of epoch {}", e.what(),
                    hub->core_.epoch());
      outage_logged = true;
    }
  }
}

}  // namespace tether::mesh
