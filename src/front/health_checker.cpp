#include "tether/front/health_checker.hpp"

#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "tether/front/affinity.hpp"
#include "tether/net/log.hpp"

namespace tether::front {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct HealthChecker::State {
  State(asio::io_context& c, HealthConfig h, std::shared_ptr<InstanceTable> t, FrontStats& s)
      : ctx(c), config(std::move(h)), table(std::move(t)), stats(s),
        timer(std::make_unique<asio::steady_timer>(c)) {}
  asio::io_context& ctx;
  HealthConfig config;
  std::shared_ptr<InstanceTable> table;
  FrontStats& stats;
  std::shared_ptr<spdlog::logger> log = net::logger("health");
  bool stopped = false;
  std::unique_ptr<asio::steady_timer> timer;
};

namespace {

// One check: true when `path` answered 2xx within the timeout. `portable`
// gets the answer's Tether-Session-Portable, if it had one (so an instance
// that no client has reached yet is known as a rebalancing destination).
asio::awaitable<bool> probe(asio::io_context& ctx, asio::ip::tcp::endpoint ep, std::string path,
                            std::string host, std::chrono::milliseconds timeout, std::string& why,
                            std::optional<bool>& portable) {
  beast::tcp_stream stream(ctx);
  stream.expires_after(timeout);
  auto [cec] = co_await stream.async_connect(ep, use_nothrow);
  if (cec) {
    why = "connect: " + cec.message();
    co_return false;
  }
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, path, 11};
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::user_agent, "tether-health-check");
  req.keep_alive(false);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, use_nothrow);
  if (wec) {
    why = "write: " + wec.message();
    co_return false;
  }
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.skip(true);  // the body does not matter
  auto [rec, rn] = co_await bhttp::async_read_header(stream, buf, parser, use_nothrow);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  if (rec) {
    why = "response: " + rec.message();
    co_return false;
  }
  auto status = parser.get().result_int();
  portable = Affinity::take_portable(parser.get());
  if (status >= 200 && status < 300) co_return true;
  why = "status " + std::to_string(status);
  co_return false;
}

void record(HealthChecker::State& st, Instance& inst, bool ok, const std::string& why) {
  const auto& cfg = st.config;
  auto before = inst.health.load();
  if (ok) {
    inst.consecutive_fail = 0;
    ++inst.consecutive_ok;
    if (before == Instance::checking ||
        (before == Instance::failing &&
         inst.consecutive_ok >= static_cast<int>(cfg.rise)))
      inst.health = Instance::healthy;
  } else {
    inst.consecutive_ok = 0;
    ++inst.consecutive_fail;
    // A new instance that never passed also becomes `failing` after `fall`
    // failures, so that "none removed when all fail" covers it too.
    if (before != Instance::failing && inst.consecutive_fail >= static_cast<int>(cfg.fall))
      inst.health = Instance::failing;
  }
  auto after = inst.health.load();
  if (after != before) {
    inst.health_transitions.fetch_add(1, std::memory_order_relaxed);
    st.stats.health_transitions.fetch_add(1, std::memory_order_relaxed);
    if (after == Instance::healthy)
      st.log->info("instance {} at {} is healthy", inst.id, inst.address);
    else
      st.log->warn("instance {} at {} is failing health checks ({} in a row: {})", inst.id,
                   inst.address, inst.consecutive_fail, why);
  }
}

asio::awaitable<void> check_one(std::shared_ptr<HealthChecker::State> st,
                                std::shared_ptr<Instance> inst) {
  std::string why;
  std::optional<bool> portable;
  bool ok = co_await probe(st->ctx, inst->endpoint, st->config.path, inst->address,
                           st->config.timeout, why, portable);
  inst->note_portable(portable);
  inst->check_in_flight = false;
  inst->last_check = now_ms();
  if (st->stopped) co_return;
  record(*st, *inst, ok, why);
  HealthChecker::apply_rotation(*st->table->snapshot(), st->config.max_unhealthy_share);
}

// Every tick: start a check for each instance that is due (new instances at
// once), then re-apply rotation.
asio::awaitable<void> check_loop(std::shared_ptr<HealthChecker::State> st) {
  auto tick = std::min<std::chrono::milliseconds>(st->config.interval,
                                                  std::chrono::milliseconds(100));
  while (!st->stopped) {
    auto snap = st->table->snapshot();
    auto now = now_ms();
    for (const auto& inst : snap->instances) {
      if (inst->check_in_flight) continue;
      if (inst->last_check != 0 && now - inst->last_check < st->config.interval.count()) continue;
      inst->check_in_flight = true;
      asio::co_spawn(st->ctx, check_one(st, inst), asio::detached);
    }
    st->timer->expires_after(tick);
    auto [ec] = co_await st->timer->async_wait(use_nothrow);
    if (ec) co_return;
  }
}

}  // namespace

std::size_t HealthChecker::apply_rotation(const InstanceSnapshot& snap, double share) {
  std::size_t total = snap.instances.size();
  std::size_t failing = 0;
  for (const auto& i : snap.instances)
    if (i->health.load() == Instance::failing) ++failing;
  // All failing: remove none (App Service). Otherwise at most floor(share * total).
  std::size_t may_remove =
      failing == total ? 0 : static_cast<std::size_t>(share * static_cast<double>(total) + 1e-9);
  std::size_t removed = 0;
  for (const auto& i : snap.instances) {
    auto h = i->health.load();
    bool in = true;
    if (h == Instance::checking) {
      in = false;
    } else if (h == Instance::failing) {
      if (removed < may_remove) {
        in = false;
        ++removed;
      }
    }
    i->in_rotation.store(in, std::memory_order_relaxed);
  }
  return removed;
}

HealthChecker::HealthChecker(asio::io_context& ctx, HealthConfig config,
                             std::shared_ptr<InstanceTable> table, FrontStats& stats)
    : state_(std::make_shared<State>(ctx, std::move(config), std::move(table), stats)) {}

void HealthChecker::start() {
  asio::co_spawn(state_->ctx, check_loop(state_), asio::detached);
}

void HealthChecker::stop() {
  asio::post(state_->ctx, [st = state_] {
    st->stopped = true;
    st->timer->cancel();
  });
}

}  // namespace tether::front
