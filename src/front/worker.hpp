#pragma once
// Private to src/front: the state shared by all workers and the per-thread
// worker, used by front_server.cpp and the proxy path (front/proxy/).
#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <spdlog/logger.h>

#include "tether/front/affinity.hpp"
#include "tether/front/balancer.hpp"
#include "tether/front/front_server.hpp"
#include "tether/front/upstream_pool.hpp"
#include "rebalancer.hpp"

namespace tether::front {

namespace proxy {
class TunnelBase;  // front/proxy/tunnel.hpp
}

struct FrontServer::Shared {
  Shared(FrontConfig c, std::shared_ptr<InstanceTable> t);

  const FrontConfig config;
  const Affinity affinity;
  std::unique_ptr<Balancer> balancer;
  // Moves idle pins off loaded instances; null unless affinity.rebalance_idle.
  std::unique_ptr<Rebalancer> rebalancer;
  std::shared_ptr<InstanceTable> table;
  FrontStats stats;
  std::shared_ptr<spdlog::logger> log;
  std::atomic<bool> stopping{false};
  std::unique_ptr<boost::asio::ssl::context> tls;  // set when [front.tls] is configured
  // config.relay.local_address as an instance outside the table (never
  // balanced, never health-checked); null when there is none.
  std::shared_ptr<Instance> local;
};

// Relay buffers (16 KiB each), recycled by one worker (single-threaded): an
// exchange borrows one for its life instead of carrying it in its coroutine
// frame, so a request costs no 16 KiB allocation (docs/benchmarks.md).
class RelayBuffers {
 public:
  static constexpr std::size_t kSize = 16 * 1024;
  using Buffer = std::array<char, kSize>;
  class Lease {
   public:
    Lease(RelayBuffers& owner, std::unique_ptr<Buffer> b) : owner_(&owner), b_(std::move(b)) {}
    Lease(Lease&&) = delete;
    ~Lease() { owner_->give_back(std::move(b_)); }
    Buffer& operator*() { return *b_; }

   private:
    RelayBuffers* owner_;
    std::unique_ptr<Buffer> b_;
  };
  Lease take() {
    if (free_.empty()) return Lease(*this, std::make_unique<Buffer>());
    auto b = std::move(free_.back());
    free_.pop_back();
    return Lease(*this, std::move(b));
  }

 private:
  void give_back(std::unique_ptr<Buffer> b) {
    if (free_.size() < kKept) free_.push_back(std::move(b));
  }
  static constexpr std::size_t kKept = 256;  // at most 4 MiB kept per worker
  std::vector<std::unique_ptr<Buffer>> free_;
};

struct FrontServer::Worker {
  Worker(Shared& s, unsigned index);

  // The current instance snapshot, refreshed only when the table changed.
  const InstanceSnapshot& snapshot() {
    if (snap->version != shared.table->version()) snap = shared.table->snapshot();
    return *snap;
  }

  Shared& shared;
  const unsigned index;
  // Client connections of this worker, for stop(); `idle` marks those waiting
  // for their next request, which a graceful stop may close at once.
  // Declared before `ctx`: handlers destroyed with ctx still deregister here.
  struct ClientEntry {
    boost::asio::ip::tcp::socket* socket;
    bool idle;  // waiting for a next request, or a tunnel: closed at once on stop
  };
  std::unordered_map<std::uint64_t, ClientEntry> clients;
  // Reads with no timer of their own (drained_read.hpp: a keep-alive wait,
  // an instance's first response bytes): the worker's sweep cancels those
  // past their deadline and marks them expired. Registered for the read's
  // length (SweptDeadline).
  struct DeadlineWait {
    boost::asio::ip::tcp::socket* socket;
    std::int64_t deadline_ms;
    bool expired = false;
    std::size_t index = 0;  // its place in swept_waits
  };
  std::vector<DeadlineWait*> swept_waits;
  // Live tunnels, plain and TLS (front/proxy/tunnel.hpp), for the idle sweep.
  std::unordered_set<proxy::TunnelBase*> tunnels;
  RelayBuffers relay_buffers;  // before ctx: frames destroyed with it give theirs back
  boost::asio::io_context ctx{1};
  UpstreamPool pool;
  std::shared_ptr<const InstanceSnapshot> snap;
  std::thread thread;
};

// Registers one DeadlineWait with its worker for its lifetime (removal by
// swapping with the last: no search, no allocation once the vector grew).
class SweptDeadline {
 public:
  SweptDeadline(FrontServer::Worker& w, boost::asio::ip::tcp::socket& s, std::int64_t deadline_ms)
      : w_(w), wait_{&s, deadline_ms, false, w.swept_waits.size()} {
    w_.swept_waits.push_back(&wait_);
  }
  ~SweptDeadline() {
    auto& v = w_.swept_waits;
    v[wait_.index] = v.back();
    v[wait_.index]->index = wait_.index;
    v.pop_back();
  }
  SweptDeadline(const SweptDeadline&) = delete;
  SweptDeadline& operator=(const SweptDeadline&) = delete;
  bool expired() const { return wait_.expired; }

 private:
  FrontServer::Worker& w_;
  FrontServer::Worker::DeadlineWait wait_;
};

// Serves one client connection on `worker` (runs on worker->ctx).
boost::asio::awaitable<void> run_proxy_connection(FrontServer::Worker* worker,
                                                  boost::asio::ip::tcp::socket socket,
                                                  std::uint64_t connection_id);

// The same for a client of the HTTPS listener: TLS handshake first.
boost::asio::awaitable<void> run_proxy_connection_tls(FrontServer::Worker* worker,
                                                      boost::asio::ip::tcp::socket socket,
                                                      std::uint64_t connection_id,
                                                      boost::asio::ssl::context* tls);

}  // namespace tether::front
