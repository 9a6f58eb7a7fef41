#include "tunnel.hpp"

#include "../worker.hpp"

namespace tether::front::proxy {

namespace beast = boost::beast;

using tcp = boost::asio::ip::tcp;

// The production streams have deadlines and sockets: stream_ops.hpp must
// not skip them (only the tests' in-memory streams lack both).
static_assert(kOnSocket<beast::tcp_stream> && kOnSocket<TlsClient> &&
              kWaitable<beast::tcp_stream> && !kWaitable<TlsClient> && kWaitable<tcp::socket>);

template class Tunnel<tcp::socket, tcp::socket>;
template class Tunnel<TlsClient, tcp::socket>;

TunnelRegistration::TunnelRegistration(FrontServer::Worker& w, std::uint64_t id,
                                       boost::asio::ip::tcp::socket& client, TunnelBase& t,
                                       std::shared_ptr<Instance> inst)
    : w_(w), id_(id), t_(t), inst_(std::move(inst)) {
  auto& stats = w_.shared.stats;
  stats.tunnels_open.fetch_add(1, std::memory_order_relaxed);
  stats.tunnels_total.fetch_add(1, std::memory_order_relaxed);
  if (inst_) inst_->tunnels.fetch_add(1, std::memory_order_relaxed);
  w_.tunnels.insert(&t_);
  w_.clients[id_] = {&client, true};  // a graceful stop closes tunnels at once
}

TunnelRegistration::~TunnelRegistration() {
  w_.tunnels.erase(&t_);
  w_.clients.erase(id_);
  auto& stats = w_.shared.stats;
  stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
  stats.tunnels_open.fetch_sub(1, std::memory_order_relaxed);
  if (t_.idle_timeout) stats.tunnel_idle_timeouts.fetch_add(1, std::memory_order_relaxed);
  if (inst_) inst_->tunnels.fetch_sub(1, std::memory_order_relaxed);
}

namespace {

// The tunnel keeps the instance's bare socket: Beast's stream state (two
// deadline timers) is freed with `h` (idle tunnels, docs/benchmarks.md).
template <class Client>
void start(FrontServer::Worker& w, std::uint64_t id, Client client,
           TunnelHandoff<beast::tcp_stream> h) {
  auto inst = std::move(h.instance);
  TunnelHandoff<tcp::socket> bare{h.upstream.release_socket(), std::move(h.to_upstream),
                                  std::move(h.to_client), nullptr};
  auto t = std::make_shared<Tunnel<Client, tcp::socket>>(std::move(client), std::move(bare));
  t->registration.emplace(w, id, socket_of(t->client()), *t, std::move(inst));
  t->start();
}

}  // namespace

void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id, beast::tcp_stream client,
                  TunnelHandoff<beast::tcp_stream> h) {
  start(w, connection_id, client.release_socket(), std::move(h));
}

void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id, TlsClient client,
                  TunnelHandoff<beast::tcp_stream> h) {
  start(w, connection_id, std::move(client), std::move(h));
}

void sweep_idle_tunnels(FrontServer::Worker& w, std::int64_t now, std::int64_t idle_ms) {
  // close_both only closes the streams: the tunnels leave w.tunnels when
  // their aborted operations complete, so iterating is safe.
  for (auto* t : w.tunnels) {
    if (now - t->last_activity < idle_ms) continue;
    t->idle_timeout = true;
    t->close_both();
  }
}

}  // namespace tether::front::proxy
