#include "tunnel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "../worker.hpp"

namespace tether::front::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;

template asio::awaitable<void> run_tunnel(beast::tcp_stream&, beast::tcp_stream&, std::string,
                                          std::string, TunnelState&);
template asio::awaitable<void> run_tunnel(TlsClient&, beast::tcp_stream&, std::string, std::string,
                                          TunnelState&);

namespace {

// Keeps the worker's registry and the counters right on every exit path,
// including the frame's destruction with the io_context at shutdown.
class TunnelRegistration {
 public:
  TunnelRegistration(FrontServer::Worker& w, std::uint64_t id, asio::ip::tcp::socket& client,
                     TunnelState& st, std::shared_ptr<Instance> inst)
      : w_(w), id_(id), st_(st), inst_(std::move(inst)) {
    auto& stats = w_.shared.stats;
    stats.tunnels_open.fetch_add(1, std::memory_order_relaxed);
    stats.tunnels_total.fetch_add(1, std::memory_order_relaxed);
    if (inst_) inst_->tunnels.fetch_add(1, std::memory_order_relaxed);
    w_.tunnels.insert(&st_);
    w_.clients[id_] = {&client, true};  // a graceful stop closes tunnels at once
  }
  ~TunnelRegistration() {
    w_.tunnels.erase(&st_);
    w_.clients.erase(id_);
    auto& stats = w_.shared.stats;
    stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
    stats.tunnels_open.fetch_sub(1, std::memory_order_relaxed);
    if (st_.idle_timeout) stats.tunnel_idle_timeouts.fetch_add(1, std::memory_order_relaxed);
    if (inst_) inst_->tunnels.fetch_sub(1, std::memory_order_relaxed);
  }
  TunnelRegistration(const TunnelRegistration&) = delete;
  TunnelRegistration& operator=(const TunnelRegistration&) = delete;

 private:
  FrontServer::Worker& w_;
  std::uint64_t id_;
  TunnelState& st_;
  std::shared_ptr<Instance> inst_;
};

template <class Client>
asio::awaitable<void> tunnel_main(FrontServer::Worker* w, std::uint64_t id, Client client,
                                  TunnelHandoff<beast::tcp_stream> h) {
  TunnelState st;
  TunnelRegistration reg(*w, id, beast::get_lowest_layer(client).socket(), st,
                         std::move(h.instance));
  co_await run_tunnel(client, h.upstream, std::move(h.to_upstream), std::move(h.to_client), st);
}

}  // namespace

void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id, beast::tcp_stream client,
                  TunnelHandoff<beast::tcp_stream> h) {
  asio::co_spawn(w.ctx, tunnel_main(&w, connection_id, std::move(client), std::move(h)),
                 asio::detached);
}

void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id, TlsClient client,
                  TunnelHandoff<beast::tcp_stream> h) {
  asio::co_spawn(w.ctx, tunnel_main(&w, connection_id, std::move(client), std::move(h)),
                 asio::detached);
}

void sweep_idle_tunnels(FrontServer::Worker& w, std::int64_t now, std::int64_t idle_ms) {
  // close_both only closes the sockets: the tunnels leave w.tunnels when
  // their aborted operations complete, so iterating is safe.
  for (auto* t : w.tunnels) {
    if (now - t->last_activity < idle_ms || !t->close_both) continue;
    t->idle_timeout = true;
    t->close_both();
  }
}

}  // namespace tether::front::proxy
