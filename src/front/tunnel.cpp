#include "tunnel.hpp"

#include <memory>

#include <boost/asio/write.hpp>

#include "worker.hpp"

namespace tether::front {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::size_t kChunk = 16 * 1024;

// One plain tunnel. Owned by its pending operations (shared_from_this in
// every handler): no coroutine frame, no timer, no buffer while idle. The
// worker's tunnel sweep closes it when idle too long. Runs on the worker's
// single-threaded io_context.
class PlainTunnel : public std::enable_shared_from_this<PlainTunnel> {
 public:
  PlainTunnel(FrontServer::Worker& w, std::uint64_t id, TunnelEnds ends,
              std::shared_ptr<Instance> inst)
      : w_(w), id_(id), client_(std::move(ends.client)), upstream_(std::move(ends.upstream)),
        to_upstream_(std::move(ends.to_upstream)), to_client_(std::move(ends.to_client)),
        inst_(std::move(inst)), last_activity_(now_ms()) {}

  ~PlainTunnel() {
    w_.tunnels.erase(this);
    w_.clients.erase(id_);
    auto& st = w_.shared.stats;
    st.connections_open.fetch_sub(1, std::memory_order_relaxed);
    st.tunnels_open.fetch_sub(1, std::memory_order_relaxed);
    if (idle_timeout_) st.tunnel_idle_timeouts.fetch_add(1, std::memory_order_relaxed);
    if (inst_) inst_->tunnels.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() {
    auto& st = w_.shared.stats;
    st.tunnels_open.fetch_add(1, std::memory_order_relaxed);
    st.tunnels_total.fetch_add(1, std::memory_order_relaxed);
    if (inst_) inst_->tunnels.fetch_add(1, std::memory_order_relaxed);
    w_.tunnels.insert(this);
    w_.clients[id_] = {&client_, true};  // a graceful stop closes tunnels at once
    boost::system::error_code ignored;
    client_.non_blocking(true, ignored);
    upstream_.non_blocking(true, ignored);
    flush_pending(Side::to_upstream);
    flush_pending(Side::to_client);
  }

  // Called by the worker's sweep: closes the tunnel when quiet for `idle`.
  void close_if_idle(std::int64_t now, std::int64_t idle_ms) {
    if (now - last_activity_ < idle_ms) return;
    idle_timeout_ = true;
    close_both();
  }

 private:
  enum class Side { to_upstream, to_client };

  tcp::socket& from(Side s) { return s == Side::to_upstream ? client_ : upstream_; }
  tcp::socket& to(Side s) { return s == Side::to_upstream ? upstream_ : client_; }

  void flush_pending(Side s) {
    auto& pending = s == Side::to_upstream ? to_upstream_ : to_client_;
    if (pending.empty()) {
      wait(s);
      return;
    }
    asio::async_write(to(s), asio::buffer(pending),
                      [self = shared_from_this(), s](boost::system::error_code ec, std::size_t) {
                        auto& p = s == Side::to_upstream ? self->to_upstream_ : self->to_client_;
                        std::string().swap(p);
                        if (ec) return self->close_both();
                        self->wait(s);
                      });
  }

  void wait(Side s) {
    from(s).async_wait(tcp::socket::wait_read,
                       [self = shared_from_this(), s](boost::system::error_code ec) {
                         self->on_readable(s, ec);
                       });
  }

  void on_readable(Side s, boost::system::error_code ec) {
    if (ec) return close_both();  // closed under us: stop, idle, the other side failed
    auto buf = std::make_unique<char[]>(kChunk);
    std::size_t n = from(s).read_some(asio::buffer(buf.get(), kChunk), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return wait(s);
    if (ec == asio::error::eof) {
      // Half-close: pass the EOF on; the other direction keeps going.
      boost::system::error_code ignored;
      to(s).shutdown(tcp::socket::shutdown_send, ignored);
      if (++directions_done_ == 2) close_both();
      return;
    }
    if (ec) return close_both();
    last_activity_ = now_ms();
    auto* data = buf.get();
    asio::async_write(to(s), asio::buffer(data, n),
                      [self = shared_from_this(), s, buf = std::move(buf)](
                          boost::system::error_code wec, std::size_t) {
                        if (wec) return self->close_both();
                        self->last_activity_ = now_ms();
                        self->wait(s);
                      });
  }

  void close_both() {
    boost::system::error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
  }

  FrontServer::Worker& w_;
  std::uint64_t id_;
  tcp::socket client_;
  tcp::socket upstream_;
  std::string to_upstream_;
  std::string to_client_;
  std::shared_ptr<Instance> inst_;
  std::int64_t last_activity_;
  int directions_done_ = 0;
  bool idle_timeout_ = false;
};

void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id, TunnelEnds ends,
                  std::shared_ptr<Instance> inst) {
  auto t = std::make_shared<PlainTunnel>(w, connection_id, std::move(ends), std::move(inst));
  t->start();
}

void sweep_idle_tunnels(FrontServer::Worker& w, std::int64_t now, std::int64_t idle_ms) {
  // close_if_idle may not erase from w.tunnels synchronously (destruction
  // happens when the aborted operations complete), so iterating is safe.
  for (auto* t : w.tunnels) t->close_if_idle(now, idle_ms);
}

}  // namespace tether::front
