#include "tether/front/front_server.hpp"

#include <future>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/array.hpp>

#include "tether/front/health_checker.hpp"
#include "tether/front/proxy_error.hpp"
#include "tether/http/parse_errors.hpp"
#include "tether/net/config_reader.hpp"
#include "tether/net/endpoint.hpp"
#include "tether/net/event_loop.hpp"
#include "tether/net/log.hpp"
#include "proxy/tunnel.hpp"
#include "worker.hpp"

namespace tether::front {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

FrontServer::Shared::Shared(FrontConfig c, std::shared_ptr<InstanceTable> t)
    : config(std::move(c)),
      affinity(config.affinity),
      balancer(make_balancer(config.balancing)),
      rebalancer(affinity.rebalancing() ? std::make_unique<Rebalancer>() : nullptr),
      table(std::move(t)),
      log(net::logger("front")) {
  if (!config.relay.local_address.empty()) {
    InstanceTable own(TokenMode::instance_id);
    local = own.add(".tether", config.relay.local_address);
  }
}

FrontServer::Worker::Worker(Shared& s, unsigned i)
    : shared(s), index(i),
      pool(s.config.limits.max_idle_per_instance, s.config.timeouts.upstream_idle.count()),
      snap(s.table->snapshot()) {}

namespace {

// A whole response refusing a connection for `f`, written before any
// request is read (status and body from the one mapping).
std::string refusal(ProxyFailure f) {
  const int status = status_for(f);
  const std::string body = error_body(f, "");
  return "HTTP/1.1 " + std::to_string(status) + " " + http::short_reason(status) +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// The accept loop: hands each connection to the next worker in turn, or
// refuses it with a 503 when limits.max_connections are open.
asio::awaitable<void> accept_loop(FrontServer::Shared* sh, tcp::acceptor* acceptor,
                                  std::vector<FrontServer::Worker*> workers, bool tls) {
  std::size_t next = 0;
  for (;;) {
    auto& target = *workers[next++ % workers.size()];
    auto [ec, socket] = co_await acceptor->async_accept(target.ctx, use_nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      sh->log->warn("accept failed: {}", ec.message());
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        // Out of file descriptors: back off briefly instead of spinning.
        asio::steady_timer t(acceptor->get_executor(), std::chrono::milliseconds(50));
        co_await t.async_wait(use_nothrow);
      }
      continue;
    }
    auto id = sh->stats.connections_accepted.fetch_add(1, std::memory_order_relaxed) + 1;
    if (sh->stats.connections_open.load(std::memory_order_relaxed) >=
        static_cast<std::int64_t>(sh->config.limits.max_connections)) {
      sh->stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
      static const std::string kRefusal = refusal(ProxyFailure::too_busy);
      boost::system::error_code ignored;
      socket.non_blocking(true, ignored);
      asio::write(socket, asio::buffer(kRefusal), ignored);
      socket.close(ignored);
      continue;
    }
    sh->stats.connections_open.fetch_add(1, std::memory_order_relaxed);
    if (tls)
      asio::co_spawn(target.ctx,
                     run_proxy_connection_tls(&target, std::move(socket), id, sh->tls.get()),
                     asio::detached);
    else
      asio::co_spawn(target.ctx, run_proxy_connection(&target, std::move(socket), id),
                     asio::detached);
  }
}

// Closes pooled upstream connections that idled too long, twice per period.
asio::awaitable<void> sweep_loop(FrontServer::Worker* w) {
  asio::steady_timer timer(w->ctx);
  auto period = std::max<std::chrono::milliseconds>(w->shared.config.timeouts.upstream_idle / 2,
                                                    std::chrono::milliseconds(100));
  while (!w->shared.stopping.load()) {
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
    w->pool.sweep(now_ms());
  }
}

// Ends the reads with no timer of their own (Worker::swept_waits: keep-alive
// waits past client_idle, first response bytes past upstream_response)
// every quarter of the shorter of the two. A cancelled keep-alive read ends
// the connection, an expired response wait a 504, as their timers did.
asio::awaitable<void> deadline_sweep_loop(FrontServer::Worker* w) {
  asio::steady_timer timer(w->ctx);
  const auto& t = w->shared.config.timeouts;
  auto period = std::clamp<std::chrono::milliseconds>(
      std::min(t.client_idle, t.upstream_response) / 4, std::chrono::milliseconds(50),
      std::chrono::milliseconds(5'000));
  while (!w->shared.stopping.load()) {
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
    const auto now = now_ms();
    for (auto* wait : w->swept_waits)
      if (!wait->expired && wait->deadline_ms <= now) {
        wait->expired = true;
        boost::system::error_code ignored;
        wait->socket->cancel(ignored);
      }
  }
}

// Closes idle tunnels, several times per tunnel_idle.
asio::awaitable<void> tunnel_sweep_loop(FrontServer::Worker* w) {
  asio::steady_timer timer(w->ctx);
  auto idle = w->shared.config.timeouts.tunnel_idle;
  auto period = std::clamp<std::chrono::milliseconds>(idle / 4, std::chrono::milliseconds(50),
                                                      std::chrono::milliseconds(60'000));
  while (!w->shared.stopping.load()) {
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
    proxy::sweep_idle_tunnels(*w, now_ms(), idle.count());
  }
}

// ALPN (RFC 7301): "h2" when `arg` is set (HTTP/2 on) and the client offers
// it, else "http/1.1"; a client offering neither gets no ALPN answer and
// speaks HTTP/1.1.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  static const unsigned char kH2[] = {2, 'h', '2'};
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  auto** o = const_cast<unsigned char**>(out);
  if (arg && SSL_select_next_proto(o, outlen, kH2, sizeof kH2, in, inlen) == OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_OK;
  if (SSL_select_next_proto(o, outlen, kHttp11, sizeof kHttp11, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_OK;
  return SSL_TLSEXT_ERR_NOACK;
}

// The server-side TLS context from [front.tls]; `h2` offers HTTP/2 by ALPN.
// Throws net::ConfigError naming the key when a file cannot be used.
std::unique_ptr<asio::ssl::context> make_tls_context(const TlsConfig& cfg, bool h2) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cfg.cert, ec);
  if (ec)
    throw net::ConfigError("front.tls.cert: cannot load certificate chain: " + ec.message() +
                           " (got \"" + cfg.cert + "\")");
  ctx->use_private_key_file(cfg.key, asio::ssl::context::pem, ec);
  if (ec)
    throw net::ConfigError("front.tls.key: cannot load private key: " + ec.message() +
                           " (got \"" + cfg.key + "\")");
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), &select_alpn,
                             h2 ? reinterpret_cast<void*>(1) : nullptr);
  return ctx;
}

}  // namespace

FrontServer::FrontServer(FrontConfig config, std::shared_ptr<InstanceTable> table)
    : table_(std::move(table)) {
  table_->set_check_new_instances(!config.health.path.empty());
  for (const auto& inst : config.instances) table_->add(inst.id, inst.address);
  shared_ = std::make_unique<Shared>(std::move(config), table_);
}

FrontServer::~FrontServer() { stop(std::chrono::milliseconds(0)); }

std::uint16_t FrontServer::start() {
  const auto& cfg = shared_->config;
  unsigned n = cfg.threads ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(*shared_, i));

  auto& ctx0 = workers_[0]->ctx;  // the acceptors live on worker 0
  // A listener; a failure names the address, the port and the reason.
  auto listen_on = [&](std::uint16_t p) {
    auto a = std::make_unique<tcp::acceptor>(ctx0);
    tcp::endpoint ep{asio::ip::make_address(cfg.listen), p};
    boost::system::error_code ec;
    using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    a->open(ep.protocol(), ec);
    if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && cfg.reuse_port) a->set_option(ReusePort(true), ec);
    if (!ec) a->bind(ep, ec);
    if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      std::string what =
          "cannot listen on " + net::HostPort{cfg.listen, p}.to_string() + ": " + ec.message();
      if (ec == asio::error::address_in_use)
        what += cfg.reuse_port ? " (another process has it, not with SO_REUSEPORT as its user)"
                               : " (another process has it; to start a second front door beside a "
                                 "running one, both need [front] reuse_port = true / --reuse-port)";
      throw std::runtime_error(what);
    }
    return a;
  };
  acceptor_ = listen_on(cfg.port);
  auto port = acceptor_->local_endpoint().port();
  if (!cfg.tls.cert.empty()) {
    shared_->tls = make_tls_context(cfg.tls, cfg.http2.enabled);
    tls_acceptor_ = listen_on(cfg.tls.port);
    tls_port_ = tls_acceptor_->local_endpoint().port();
  }

  std::vector<Worker*> raw;
  for (auto& w : workers_) raw.push_back(w.get());
  asio::co_spawn(ctx0, accept_loop(shared_.get(), acceptor_.get(), raw, false), asio::detached);
  if (tls_acceptor_)
    asio::co_spawn(ctx0, accept_loop(shared_.get(), tls_acceptor_.get(), raw, true),
                   asio::detached);
  for (auto& w : workers_) {
    asio::co_spawn(w->ctx, sweep_loop(w.get()), asio::detached);
    asio::co_spawn(w->ctx, tunnel_sweep_loop(w.get()), asio::detached);
    asio::co_spawn(w->ctx, deadline_sweep_loop(w.get()), asio::detached);
    w->thread = std::thread([wp = w.get()] {
      auto guard = asio::make_work_guard(wp->ctx);
      wp->ctx.run();
    });
  }
  if (!cfg.health.path.empty()) {
    health_ = std::make_unique<HealthChecker>(ctx0, cfg.health, table_, shared_->stats);
    health_->start();
  }
  started_ = true;
  shared_->log->info("listening on {}:{} with {} worker(s) on {}, balancing {}, affinity {}",
                     cfg.listen, port, n, net::event_loop_name(), to_string(cfg.balancing),
                     cfg.affinity.enabled ? "on" : "off");
  return port;
}

void FrontServer::stop(std::chrono::milliseconds grace) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  shared_->stopping = true;
  if (health_) health_->stop();
  // Stop accepting, and only then close connections that wait for a next
  // request and tunnels: a client that reconnects at once must not land in
  // this process's accept queue (with reuse_port a new front door is
  // listening on the same port by now).
  auto closed = std::make_shared<std::promise<void>>();
  asio::post(workers_[0]->ctx, [a = acceptor_.get(), t = tls_acceptor_.get(), closed] {
    boost::system::error_code ignored;
    a->close(ignored);
    if (t) t->close(ignored);
    closed->set_value();
  });
  // Bounded: a worker that is not running any more (it cannot be, short of
  // a bug) must not hang the stop.
  closed->get_future().wait_for(std::chrono::seconds(5));
  for (auto& w : workers_)
    asio::post(w->ctx, [wp = w.get()] {
      boost::system::error_code ignored;
      for (auto& [id, e] : wp->clients)
        if (e.idle) e.socket->close(ignored);
      proxy::close_tunnels(*wp);
      wp->pool.clear();
    });
  // Let in-flight exchanges finish, up to `grace`.
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (shared_->stats.connections_open.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (auto& w : workers_) {
    asio::post(w->ctx, [wp = w.get()] {
      boost::system::error_code ignored;
      for (auto& [id, e] : wp->clients) e.socket->close(ignored);
      proxy::close_tunnels(*wp);
      wp->pool.clear();
      wp->ctx.stop();
    });
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  shared_->log->info("stopped");
}

std::string FrontServer::reload(const FrontConfig& next) {
  const auto& cur = shared_->config;
  std::size_t added = 0, removed = 0, changed = 0;
  auto snap = table_->snapshot();
  for (const auto& want : next.instances) {
    auto have = table_->find(want.id);
    if (!have) ++added;
    else if (have->address != want.address) ++changed;
    else continue;
    table_->add(want.id, want.address);
  }
  for (const auto& have : snap->instances) {
    bool kept = false;
    for (const auto& want : next.instances) kept = kept || want.id == have->id;
    if (!kept && table_->remove(have->id)) ++removed;
  }
  std::vector<std::string> restart;
  if (next.listen != cur.listen || next.port != cur.port) restart.push_back("front.listen/port");
  if (next.threads != cur.threads) restart.push_back("front.threads");
  if (next.balancing != cur.balancing) restart.push_back("front.balancing");
  if (next.affinity.enabled != cur.affinity.enabled || next.affinity.cookie != cur.affinity.cookie ||
      next.affinity.samesite_cookie != cur.affinity.samesite_cookie ||
      next.affinity.token != cur.affinity.token || next.affinity.domain != cur.affinity.domain ||
      next.affinity.set_domain != cur.affinity.set_domain)
    restart.push_back("front.affinity");
  if (next.tls.cert != cur.tls.cert || next.tls.key != cur.tls.key || next.tls.port != cur.tls.port)
    restart.push_back("front.tls");
  if (next.health.path != cur.health.path || next.health.interval != cur.health.interval)
    restart.push_back("front.health");
  if (next.admin.listen != cur.admin.listen || next.admin.port != cur.admin.port ||
      next.admin.token != cur.admin.token || next.admin.enabled != cur.admin.enabled)
    restart.push_back("front.admin");
  std::string out = "instances: " + std::to_string(added) + " added, " +
                    std::to_string(removed) + " removed, " + std::to_string(changed) +
                    " re-addressed";
  if (!restart.empty()) {
    out += "; changed but applied only after a restart:";
    for (const auto& r : restart) out += " " + r;
  }
  return out;
}

const FrontStats& FrontServer::stats() const { return shared_->stats; }
const FrontConfig& FrontServer::config() const { return shared_->config; }

boost::json::object FrontServer::status_json() const {
  boost::json::object out;
  auto snap = table_->snapshot();
  auto now = now_ms();
  boost::json::array instances;
  for (const auto& i : snap->instances) {
    boost::json::object o;
    o["id"] = i->id;
    o["token"] = i->token;
    o["address"] = i->address;
    o["state"] = i->state_name(now);
    o["draining"] = i->draining.load();
    o["outstanding"] = i->outstanding.load();
    o["requests"] = i->requests.load();
    o["connect_failures"] = i->connect_failures.load();
    o["tunnels"] = i->tunnels.load();
    instances.push_back(std::move(o));
  }
  out["instances"] = std::move(instances);
  out["counters"] = shared_->stats.to_json();
  out["balancing"] = to_string(shared_->config.balancing);
  out["affinity"] = shared_->config.affinity.enabled;
  return out;
}

}  // namespace tether::front
