#include "upstream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>

namespace tether::front::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
}

asio::awaitable<Lease> connect_upstream(FrontServer::Worker& w, Instance& inst) {
  Lease lease;
  beast::tcp_stream stream(w.ctx);
  stream.expires_after(w.shared.config.timeouts.connect);
  std::tie(lease.ec) = co_await stream.async_connect(inst.endpoint, use_nothrow);
  if (lease.ec) {
    w.shared.stats.upstream_connect_failures.fetch_add(1, std::memory_order_relaxed);
    inst.connect_failures.fetch_add(1, std::memory_order_relaxed);
    co_return lease;
  }
  beast::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  w.shared.stats.upstream_connects.fetch_add(1, std::memory_order_relaxed);
  lease.conn = std::make_unique<UpstreamConnection>(std::move(stream));
  co_return lease;
}

Lease take_pooled_upstream(FrontServer::Worker& w, Instance& inst, bool fresh_only,
                           std::int64_t now) {
  Lease lease;
  if (fresh_only) return lease;
  if (auto conn = w.pool.take(inst, now)) {
    w.shared.stats.upstream_reuses.fetch_add(1, std::memory_order_relaxed);
    lease.conn = std::move(conn);
    lease.reused = true;
  }
  return lease;
}

asio::awaitable<Lease> acquire_upstream(FrontServer::Worker& w, Instance& inst, bool fresh_only,
                                        std::int64_t now) {
  if (auto lease = take_pooled_upstream(w, inst, fresh_only, now); lease.conn) co_return lease;
  co_return co_await connect_upstream(w, inst);
}

void release_upstream(FrontServer::Worker& w, Instance& inst,
                      std::unique_ptr<UpstreamConnection> conn, bool reusable) {
  if (!reusable || conn->buffer.size() != 0) return;  // closed with `conn`
  ++conn->uses;
  w.pool.put(inst, std::move(conn), now_ms());
}

asio::awaitable<Queued> wait_for_instance(FrontServer::Worker& w,
                                          std::shared_ptr<const InstanceSnapshot> snap) {
  auto& sh = w.shared;
  sh.stats.queued.fetch_add(1, std::memory_order_relaxed);
  Queued q{nullptr, std::move(snap)};
  std::int64_t now = now_ms();
  const std::int64_t until = now + sh.config.timeouts.queue.count();
  asio::steady_timer wait(w.ctx);
  while (!q.inst && now < until && !sh.stopping.load(std::memory_order_relaxed)) {
    wait.expires_after(std::chrono::milliseconds(20));
    co_await wait.async_wait(use_nothrow);
    q.snap = sh.table->snapshot();  // nothing points into the old one yet
    now = now_ms();
    q.inst = sh.balancer->pick(*q.snap, now, {});
  }
  co_return q;
}

bool idempotent(bhttp::verb v) {
  return v == bhttp::verb::get || v == bhttp::verb::head || v == bhttp::verb::options ||
         v == bhttp::verb::put || v == bhttp::verb::delete_ || v == bhttp::verb::trace;
}

bool retryable_read_error(const beast::error_code& ec, bool body_started, bool got_some,
                          bhttp::verb method) {
  return !body_started && !got_some && idempotent(method) &&
         (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
          ec == asio::error::eof);
}

bool RetryPolicy::abandon(Instance& inst, std::int64_t now) {
  inst.down_until.store(now + cfg_.timeouts.down_period.count(), std::memory_order_relaxed);
  if (to_local_) return false;  // nowhere else serves the sidecar's routes
  tried_.add(&inst);
  fresh_only_ = false;
  if (tried_.attempts() >= cfg_.limits.connect_attempts) return false;
  stats_.retries.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace tether::front::proxy
