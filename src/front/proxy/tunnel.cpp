#include "tunnel.hpp"

#include <unistd.h>

#include "../worker.hpp"

namespace tether::front::proxy {

namespace beast = boost::beast;

using tcp = boost::asio::ip::tcp;

// The production streams have deadlines and sockets: stream_ops.hpp must
// not skip them (only the tests' in-memory streams lack both).
static_assert(kOnSocket<beast::tcp_stream> && kOnSocket<TlsClient> &&
              kWaitable<beast::tcp_stream> && !kWaitable<TlsClient> && kWaitable<tcp::socket> &&
              kRawSocket<TunnelSocket> && kWaitable<TunnelSocket>);

template class Tunnel<TunnelSocket, TunnelSocket>;
template class Tunnel<TlsClient, TunnelSocket>;

TunnelRegistration::TunnelRegistration(FrontServer::Worker& w, std::uint64_t id, TunnelBase& t,
                                       std::shared_ptr<Instance> inst)
    : w_(w), t_(t), inst_(std::move(inst)) {
  auto& stats = w_.shared.stats;
  stats.tunnels_open.fetch_add(1, std::memory_order_relaxed);
  stats.tunnels_total.fetch_add(1, std::memory_order_relaxed);
  if (inst_) inst_->tunnels.fetch_add(1, std::memory_order_relaxed);
  // From here the tunnel answers for the connection: stop() closes the
  // worker's tunnels at once, as it does idle connections.
  w_.clients.erase(id);
  w_.tunnels.insert(&t_);
}

TunnelRegistration::~TunnelRegistration() {
  w_.tunnels.erase(&t_);
  auto& stats = w_.shared.stats;
  stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
  stats.tunnels_open.fetch_sub(1, std::memory_order_relaxed);
  if (t_.idle_timeout) stats.tunnel_idle_timeouts.fetch_add(1, std::memory_order_relaxed);
  if (inst_) inst_->tunnels.fetch_sub(1, std::memory_order_relaxed);
}

namespace {

// The same connection as a TunnelSocket on the worker's io_context (the
// descriptor moves; Asio registers it again). Closed on failure.
TunnelSocket rebind(FrontServer::Worker& w, tcp::socket s, boost::system::error_code& ec) {
  TunnelSocket out(w.ctx.get_executor());
  auto local = s.local_endpoint(ec);
  if (ec) return out;
  auto fd = s.release(ec);
  if (ec) return out;
  out.assign(local.protocol(), fd, ec);
  if (ec) ::close(fd);
  return out;
}

// The tunnel keeps bare sockets: Beast's stream state (two deadline timers)
// is freed with `h` (idle tunnels, docs/benchmarks.md).
template <class Client>
void start(FrontServer::Worker& w, std::uint64_t id, Client client,
           TunnelHandoff<beast::tcp_stream> h) {
  auto inst = std::move(h.instance);
  boost::system::error_code ec;
  TunnelHandoff<TunnelSocket> bare{rebind(w, h.upstream.release_socket(), ec),
                                   std::move(h.to_upstream), std::move(h.to_client), nullptr};
  auto t = std::make_shared<Tunnel<Client, TunnelSocket>>(std::move(client), std::move(bare));
  t->registration.emplace(w, id, *t, std::move(inst));
  if (ec) return t->close_both();  // the handlers own nothing yet: t ends here
  t->start();
}

}  // namespace

void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id, beast::tcp_stream client,
                  TunnelHandoff<beast::tcp_stream> h) {
  // A failed rebind leaves `socket` closed: the tunnel's first wait fails
  // and closes both ends.
  boost::system::error_code ec;
  auto socket = rebind(w, client.release_socket(), ec);
  start(w, connection_id, std::move(socket), std::move(h));
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

void close_tunnels(FrontServer::Worker& w) {
  for (auto* t : w.tunnels) t->close_both();
}

}  // namespace tether::front::proxy
