#pragma once
// Private to src/front/proxy: the tunnel phase. After a 101 Switching
// Protocols the client and the instance talk directly; the front door copies
// bytes both ways without parsing frames. One class template over the
// stream types, for plain and TLS clients alike, with one half-close
// behaviour: EOF from one side shuts the other side's send direction and the
// other direction keeps going; when both directions passed an EOF on, or on
// any error, both ends are closed.
//
// Idle tunnels must cost little (docs/benchmarks.md, "11.21 KB per idle
// tunnel"): a tunnel is one object owned by its pending operations
// (completion handlers, no coroutine frame, no timer: the worker's sweep
// closes idle ones). On a plain stream a direction awaits readiness and
// holds a 16 KiB buffer only while bytes are in flight; a read that fills it
// goes on reading without waiting again, in 64 KiB, so a bulk flow costs a
// read and a write per 64 KiB. A TLS stream keeps a 16 KiB buffer per
// direction (its records cannot be peeked at, and are at most 16 KiB). The
// sockets are bound to the worker's io_context by type, and the pending
// operations are allocated at their own size: an idle plain tunnel is
// 1.84 KB of the process's memory in bench/front/run.sh (docs/benchmarks.md).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "tether/front/front_server.hpp"
#include "tether/front/instance_table.hpp"

#include "stream_ops.hpp"

namespace tether::front::proxy {

// What the relay hands over after a 101: the instance's stream, the bytes
// each side sent past the HTTP headers, and the instance (for its tunnel
// count; null when the tunnel does not count on one).
template <class Upstream>
struct TunnelHandoff {
  Upstream upstream;
  std::string to_upstream;  // bytes the client sent after its request header
  std::string to_client;    // bytes the instance sent after its 101 header
  std::shared_ptr<Instance> instance;
};

// The part of a live tunnel the worker's idle sweep sees (not a template:
// one virtual call per tunnel per sweep, none per byte).
class TunnelBase {
 public:
  virtual ~TunnelBase() = default;
  // Closes both ends; pending operations end with operation_aborted and the
  // tunnel goes away when the last one completed. May run twice.
  virtual void close_both() = 0;

  std::int64_t last_activity = now_ms();
  bool idle_timeout = false;  // closed by the sweep for idleness
};

// Keeps the worker's registry (w.tunnels, which stop() and the idle sweep
// close), the tunnel counters and the instance's tunnel count right while a
// tunnel of client connection `id` lives; the connection leaves w.clients
// (tunnel.cpp).
class TunnelRegistration {
 public:
  TunnelRegistration(FrontServer::Worker& w, std::uint64_t id, TunnelBase& t,
                     std::shared_ptr<Instance> inst);
  ~TunnelRegistration();
  TunnelRegistration(const TunnelRegistration&) = delete;
  TunnelRegistration& operator=(const TunnelRegistration&) = delete;

 private:
  FrontServer::Worker& w_;
  TunnelBase& t_;
  std::shared_ptr<Instance> inst_;
};

// The socket a tunnel holds: bound to the worker's io_context by type, not
// through any_io_executor, so the socket (40 bytes, not 88) and each of its
// pending waits are smaller (idle tunnels, docs/benchmarks.md).
using TunnelSocket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

// Allocates at the exact size asked for, through operator new.
template <class T>
struct OwnSizeAllocator {
  using value_type = T;
  OwnSizeAllocator() = default;
  template <class U>
  OwnSizeAllocator(const OwnSizeAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { ::operator delete(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const OwnSizeAllocator<U>&) const noexcept {
    return true;
  }
};

inline constexpr std::size_t kTunnelChunk = 16 * 1024;       // a TLS client's, kept while open
inline constexpr std::size_t kPlainTunnelChunk = 64 * 1024;  // a plain stream's, while in flight

template <class Client, class Upstream>
class Tunnel final : public TunnelBase,
                     public std::enable_shared_from_this<Tunnel<Client, Upstream>> {
 public:
  Tunnel(Client client, TunnelHandoff<Upstream> h)
      : client_(std::move(client)), upstream_(std::move(h.upstream)) {
    up_.pending = std::move(h.to_upstream);
    down_.pending = std::move(h.to_client);
  }

  // Starts copying both ways (first the pending bytes); from here on the
  // tunnel owns itself. Runs once, on the streams' executor.
  void start() {
    clear_deadline(client_);
    clear_deadline(upstream_);
    boost::system::error_code ignored;
    if constexpr (kWaitable<Client>) socket_of(client_).non_blocking(true, ignored);
    if constexpr (kWaitable<Upstream>) socket_of(upstream_).non_blocking(true, ignored);
    flush(client_, upstream_, up_);
    flush(upstream_, client_, down_);
  }

  void close_both() override {
    close_stream(client_);
    close_stream(upstream_);
  }

  Client& client() { return client_; }

  // Set by start_tunnel before start(); destroyed first, with the tunnel.
  std::optional<TunnelRegistration> registration;

 private:
  struct Direction {
    std::string pending;          // bytes to deliver first
    std::unique_ptr<char[]> buf;  // plain: only while bytes are in flight
    std::size_t cap = 0;          // buf's size: 16 KiB, 64 KiB while reads come back full
  };

  template <class From, class To>
  void flush(From& from, To& to, Direction& d) {
    if (d.pending.empty()) return wait(from, to, d);
    boost::asio::async_write(to, boost::asio::buffer(d.pending),
                             [self = this->shared_from_this(), &from, &to, &d](
                                 boost::system::error_code ec, std::size_t) {
                               std::string().swap(d.pending);
                               if (ec) return self->close_both();
                               self->wait(from, to, d);
                             });
  }

  template <class From, class To>
  void wait(From& from, To& to, Direction& d) {
    if constexpr (kWaitable<From>) {
      // The wait of an idle tunnel stays pending for its life: its operation
      // is allocated at its own size (120 bytes), not in one of the
      // thread's recycled blocks sized for the exchange's operations
      // (std::allocator would not do: Asio takes it for "no allocator").
      socket_of(from).async_wait(
          std::remove_reference_t<decltype(socket_of(from))>::wait_read,
          boost::asio::bind_allocator(
              OwnSizeAllocator<void>(),
              [self = this->shared_from_this(), &from, &to, &d](boost::system::error_code ec) {
                // Closed under us: stop, idle, the other side failed.
                if (ec) return self->close_both();
                self->read_ready(from, to, d);
              }));
    } else {
      if (!d.buf) d.buf = std::make_unique<char[]>(kTunnelChunk);
      from.async_read_some(
          boost::asio::buffer(d.buf.get(), kTunnelChunk),
          boost::asio::bind_allocator(OwnSizeAllocator<void>(),
                                      [self = this->shared_from_this(), &from, &to, &d](
                                          boost::system::error_code ec, std::size_t n) {
                                        self->on_read(from, to, d, ec, n);
                                      }));
    }
  }

  template <class From, class To>
  void read_ready(From& from, To& to, Direction& d) {
    if (!d.buf) {
      d.buf = std::make_unique<char[]>(kTunnelChunk);
      d.cap = kTunnelChunk;
    }
    boost::system::error_code ec;
    std::size_t n = socket_of(from).read_some(boost::asio::buffer(d.buf.get(), d.cap), ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
      d.buf.reset();
      return wait(from, to, d);
    }
    on_read(from, to, d, ec, n);
  }

  template <class From, class To>
  void on_read(From& from, To& to, Direction& d, boost::system::error_code ec, std::size_t n) {
    if (ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated) {
      // Half-close: pass the EOF on; the other direction keeps going.
      half_close(to);
      if (++directions_done_ == 2) close_both();
      return;
    }
    if (ec) return close_both();
    last_activity = now_ms();
    boost::asio::async_write(to, boost::asio::buffer(d.buf.get(), n),
                             [self = this->shared_from_this(), &from, &to, &d, n](
                                 boost::system::error_code wec, std::size_t) {
                               if (wec) return self->close_both();
                               self->last_activity = now_ms();
                               if constexpr (kWaitable<From>) {
                                 // A full buffer: more is likely waiting. Read
                                 // on at once, in 64 KiB from the second on.
                                 if (n == d.cap) {
                                   if (d.cap < kPlainTunnelChunk) {
                                     d.buf = std::make_unique<char[]>(kPlainTunnelChunk);
                                     d.cap = kPlainTunnelChunk;
                                   }
                                   return self->read_ready(from, to, d);
                                 }
                                 d.buf.reset();
                               }
                               self->wait(from, to, d);
                             });
  }

  Client client_;
  Upstream upstream_;
  Direction up_;    // client -> instance
  Direction down_;  // instance -> client
  int directions_done_ = 0;
};

using TlsClient = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// The real pairs, instantiated once in tunnel.cpp.
// Plain tunnels hold bare sockets; a TLS tunnel its client's TLS stream and
// the instance's bare socket (start_tunnel takes them out of Beast's
// streams).
extern template class Tunnel<TunnelSocket, TunnelSocket>;
extern template class Tunnel<TlsClient, TunnelSocket>;

// Starts the tunnel of client connection `connection_id` on `w`: the tunnel
// owns both streams and lives on its own (the connection's coroutine and its
// buffers end), registered for stop() and the idle sweep. Runs on w's
// thread.
void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id,
                  boost::beast::tcp_stream client, TunnelHandoff<boost::beast::tcp_stream> h);
void start_tunnel(FrontServer::Worker& w, std::uint64_t connection_id, TlsClient client,
                  TunnelHandoff<boost::beast::tcp_stream> h);

// Closes `w`'s tunnels that saw no traffic for `idle_ms` (called by the
// worker's periodic sweep).
void sweep_idle_tunnels(FrontServer::Worker& w, std::int64_t now, std::int64_t idle_ms);

// Closes all of `w`'s tunnels (stop()); they go away as their operations
// end. Runs on w's thread.
void close_tunnels(FrontServer::Worker& w);

}  // namespace tether::front::proxy
