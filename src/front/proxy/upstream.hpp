#pragma once
// Private to src/front/proxy: the upstream phase, a connection to the chosen
// instance (a pooled one, else a new one) and the retry policy when the
// instance fails before it answered. The instance side is always plain HTTP
// over beast::tcp_stream, so this is compiled once for plain and TLS clients.
#include <cstdint>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/verb.hpp>

#include "tether/front/upstream_pool.hpp"

#include "../worker.hpp"
#include "route.hpp"

namespace tether::front::proxy {

// A connection to an instance for one exchange.
template <class Connection>
struct BasicLease {
  std::unique_ptr<Connection> conn;  // null: the connect failed (ec says why)
  bool reused = false;               // taken from the worker's pool
  boost::beast::error_code ec;
};
using Lease = BasicLease<UpstreamConnection>;

// Opens a new connection to `inst` within timeouts.connect (TCP_NODELAY on,
// upstream_connects counted). On failure the lease is empty and ec set; the
// failure is counted on `inst` and in upstream_connect_failures.
boost::asio::awaitable<Lease> connect_upstream(FrontServer::Worker& w, Instance& inst);

// A pooled connection to `inst` unless `fresh_only`, else a new one.
boost::asio::awaitable<Lease> acquire_upstream(FrontServer::Worker& w, Instance& inst,
                                               bool fresh_only, std::int64_t now);

// A pooled connection to `inst` (counted in upstream_reuses), unless
// `fresh_only` or the pool has none: then the lease is empty. A plain call:
// acquire_upstream's fast path without a coroutine.
Lease take_pooled_upstream(FrontServer::Worker& w, Instance& inst, bool fresh_only,
                           std::int64_t now);

// Returns a connection after a complete exchange whose response left it
// reusable; one with unread bytes is closed instead.
void release_upstream(FrontServer::Worker& w, Instance& inst,
                      std::unique_ptr<UpstreamConnection> conn, bool reusable);

// The relay's upstream side: the worker's pool, else a new TCP connection.
// The relay is a template over this (its one seam below the client stream),
// so the tier-2 tests drive it over in-memory streams; a call costs what the
// functions above cost.
struct PooledUpstreams {
  using Connection = UpstreamConnection;
  FrontServer::Worker& w;
  boost::asio::awaitable<Lease> acquire(Instance& inst, bool fresh_only, std::int64_t now) {
    return acquire_upstream(w, inst, fresh_only, now);
  }
  Lease take_pooled(Instance& inst, bool fresh_only, std::int64_t now) {
    return take_pooled_upstream(w, inst, fresh_only, now);
  }
  void release(Instance& inst, std::unique_ptr<Connection> conn, bool reusable) {
    release_upstream(w, inst, std::move(conn), reusable);
  }
};

// HAProxy's timeout queue: when nothing takes traffic (a plan starting,
// every instance down), waits up to timeouts.queue for one, re-reading the
// table every 20 ms. Returns the instance (null when none came or the front
// door stops) and the snapshot it belongs to.
struct Queued {
  Instance* inst = nullptr;
  std::shared_ptr<const InstanceSnapshot> snap;
};
boost::asio::awaitable<Queued> wait_for_instance(FrontServer::Worker& w,
                                                 std::shared_ptr<const InstanceSnapshot> snap);

// GET, HEAD, OPTIONS, PUT, DELETE, TRACE (RFC 9110 §9.2.2).
bool idempotent(boost::beast::http::verb v);

// True when a failure to read the response header may be retried elsewhere:
// nothing of the body was consumed, nothing of a response arrived, the
// method is idempotent and the instance closed or reset the connection.
bool retryable_read_error(const boost::beast::error_code& ec, bool body_started, bool got_some,
                          boost::beast::http::verb method);

// Retry policy for one request (as HAProxy's retries + redispatch): a pooled
// connection that fails before answering is retried once on a fresh one to
// the same instance; a fresh one that fails marks the instance down for
// timeouts.down_period and moves on to another, up to
// limits.connect_attempts instances. The sidecar's local routes are never
// retried elsewhere.
class RetryPolicy {
 public:
  RetryPolicy(const FrontConfig& cfg, FrontStats& stats, bool to_local)
      : cfg_(cfg), stats_(stats), to_local_(to_local) {}

  // A pooled connection failed before answering: the next lease must be
  // fresh. Counts a retry.
  void retry_fresh() {
    fresh_only_ = true;
    stats_.retries.fetch_add(1, std::memory_order_relaxed);
  }

  // `inst` failed before answering: marks it down at `now` and excludes it
  // from the next pick. True when another instance may be tried (counts a
  // retry); false when the attempts are used up or the route is local.
  bool abandon(Instance& inst, std::int64_t now);

  bool fresh_only() const { return fresh_only_; }
  const TriedInstances& tried() const { return tried_; }

 private:
  const FrontConfig& cfg_;
  FrontStats& stats_;
  TriedInstances tried_;
  bool to_local_;
  bool fresh_only_ = false;
};

}  // namespace tether::front::proxy
