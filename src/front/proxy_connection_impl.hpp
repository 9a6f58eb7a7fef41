#pragma once
// Private to src/front: the proxy path as templates over the client stream
// (plain beast::tcp_stream or TLS beast::ssl_stream), instantiated in
// proxy_connection_plain.cpp and proxy_connection_tls.cpp.
//
// One client connection through the front door, as a flat sequence of named
// phases per request (docs/architecture.md draws them):
//
//   read request -> decide instance (affinity, then balancing) -> connect or
//   reuse upstream -> forward request -> read response -> filter response
//   (opt-out header, affinity cookies) -> relay response -> pool upstream
//
// Failures before the response started become one error response
// (proxy_error.hpp); failures after it close the connection.
#include <array>
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "tether/front/proxy_error.hpp"
#include "tether/http/headers.hpp"
#include "tether/http/message_encoder.hpp"
#include "tether/http/message_rules.hpp"
#include "tether/http/parse_errors.hpp"
#include "tether/http/read_header.hpp"
#include "tether/http/redact.hpp"
#include "tether/net/random.hpp"
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "client_watch.hpp"
#include "tunnel.hpp"
#include "worker.hpp"

namespace tether::front {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
using RequestParser = bhttp::request_parser<bhttp::buffer_body>;
using ResponseParser = bhttp::response_parser<bhttp::buffer_body>;

namespace {

constexpr std::size_t kRelayBuffer = 16 * 1024;

// What we know about the client side of the connection, computed once.
struct ClientSide {
  std::uint64_t id;
  std::string ip;
  std::string port;
  std::string local;  // the address the client connected to (Host of last resort)
  bool https = false;
};

// Keeps an instance's in-flight count right on every exit path.
class OutstandingGuard {
 public:
  explicit OutstandingGuard(Instance* i) : inst_(i) { inst_->outstanding.fetch_add(1); }
  ~OutstandingGuard() { inst_->outstanding.fetch_sub(1); }
  OutstandingGuard(const OutstandingGuard&) = delete;
  OutstandingGuard& operator=(const OutstandingGuard&) = delete;

 private:
  Instance* inst_;
};

// Counts one exchange's outcome (status, latency, per-instance) on every
// exit path, once.
struct ExchangeRecord {
  explicit ExchangeRecord(FrontStats& s) : stats(s) {}
  FrontStats& stats;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  unsigned status = 0;       // 0: nothing was answered (client went away)
  Instance* inst = nullptr;  // the instance that answered, if any
  ExchangeRecord(const ExchangeRecord&) = delete;
  ExchangeRecord& operator=(const ExchangeRecord&) = delete;
  ~ExchangeRecord() {
    if (!status) return;
    stats.count_status(status);
    stats.latency.observe(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start));
    if (inst) inst->count_status(status);
  }
};

bool idempotent(bhttp::verb v) {
  return v == bhttp::verb::get || v == bhttp::verb::head || v == bhttp::verb::options ||
         v == bhttp::verb::put || v == bhttp::verb::delete_ || v == bhttp::verb::trace;
}

// Writes a relayed message part by part: the header with the first part,
// then body bytes as they come, framed as `out` says (http::BodyEncoder),
// header and first bytes in one gather write. The header carries exactly the
// framing header that `out` needs (the caller ran http::set_framing).
template <bool isRequest>
class MessageWriter {
 public:
  MessageWriter(const bhttp::message<isRequest, bhttp::buffer_body>& m, http::Framing out)
      : head_(http::render_head(m)), encoder_(out) {}

  // Writes the header (first call) and `n` bytes at `data`; `more` = more
  // body follows. Returns the write's error.
  template <class Stream>
  asio::awaitable<beast::error_code> write(Stream& s, const char* data, std::size_t n, bool more) {
    auto parts = encoder_.encode(head_sent_ ? std::string_view{} : std::string_view{head_}, data,
                                 n, more);
    head_sent_ = true;
    if (asio::buffer_size(parts) == 0) co_return beast::error_code{};
    auto [ec, w] = co_await asio::async_write(s, parts, use_nothrow);
    co_return ec;
  }

  // Everything written (chunked: the last chunk too) once the body ended.
  bool finished() const { return head_sent_ && encoder_.finished(); }

 private:
  std::string head_;
  http::BodyEncoder encoder_;
  bool head_sent_ = false;
};

struct Reply {
  int status;
  std::string body;
};

// Writes a short error response; the connection is closed afterwards.
// Returns false when the write failed.
template <class Stream>
asio::awaitable<bool> send_reply(Stream& client, Reply r, unsigned version,
                                 std::chrono::milliseconds timeout) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.set(bhttp::field::cache_control, "no-store");
  res.body() = std::move(r.body);
  res.keep_alive(false);
  res.prepare_payload();
  beast::get_lowest_layer(client).expires_after(timeout);
  auto [ec, n] = co_await bhttp::async_write(client, res, use_nothrow);
  co_return !ec;
}

// Adds the request headers ARR adds (shared/reference/front-door.md).
void add_forwarding_headers(bhttp::fields& req, const ClientSide& c, std::string_view host,
                            std::string_view original_url, std::string_view log_id) {
  std::string xff;
  if (auto it = req.find("X-Forwarded-For"); it != req.end()) {
    xff = std::string(it->value());
    xff += ", ";
  }
  xff += c.ip;
  xff += ':';
  xff += c.port;
  req.set("X-Forwarded-For", xff);
  req.set("X-Forwarded-Proto", c.https ? "https" : "http");
  if (!host.empty()) req.set("X-Forwarded-Host", host);
  req.set("X-Client-IP", c.ip);
  req.set("X-Client-Port", c.port);
  req.set("X-ARR-LOG-ID", log_id);
  req.set("X-Original-URL", original_url);
  if (c.https) req.set("X-ARR-SSL", "on");
  else req.erase("X-ARR-SSL");
}

// Opens a new upstream connection to `inst`. Null on failure (ec set).
asio::awaitable<std::unique_ptr<UpstreamConnection>> connect_upstream(
    FrontServer::Worker& w, Instance& inst, beast::error_code& ec) {
  beast::tcp_stream stream(w.ctx);
  stream.expires_after(w.shared.config.timeouts.connect);
  std::tie(ec) = co_await stream.async_connect(inst.endpoint, use_nothrow);
  if (ec) co_return nullptr;
  beast::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  w.shared.stats.upstream_connects.fetch_add(1, std::memory_order_relaxed);
  co_return std::make_unique<UpstreamConnection>(std::move(stream));
}

// The outcome of one exchange for the client connection.
enum class After { keep_alive, close, tunnel };

// Phases of one request whose header `rp` has been read. Returns whether the
// client connection can carry another request.
template <class Stream>
asio::awaitable<After> proxy_exchange(FrontServer::Worker& w, Stream& client,
                                      beast::flat_buffer& cbuf, RequestParser& rp,
                                      const http::RequestReading& reading, const ClientSide& cs,
                                      std::optional<TunnelHandoff>& tunnel,
                                      std::shared_ptr<Instance>& tunnel_instance) {
  auto& sh = w.shared;
  const auto& cfg = sh.config;
  auto& stats = sh.stats;
  auto& req = rp.get();
  const unsigned client_version = req.version();
  std::string log_id = net::random_guid();
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  ExchangeRecord record{stats};

  // --- read request (rest of the header phase) ---------------------------
  if (std::distance(req.begin(), req.end()) > static_cast<long>(cfg.limits.max_header_count)) {
    sh.log->info("conn={} log_id={} too many header fields", cs.id, log_id);
    record.status = 431;
    Reply r{431, error_body(ProxyFailure::too_many_headers, log_id)};
    co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
    co_return After::close;
  }
  // RFC 9112 §6.1: after an HTTP/1.0 request with Transfer-Encoding, close.
  bool client_keep_alive = req.keep_alive() && !reading.close_after;
  const bool expect_continue =
      bhttp::token_list(req[bhttp::field::expect]).exists("100-continue");
  req.erase(bhttp::field::expect);  // we answer 100 ourselves, just before relaying the body
  // The authoritative host (an absolute-form target's authority wins over
  // Host); an HTTP/1.0 request without one is for the address it reached.
  const std::string host = reading.host.empty() ? cs.local : reading.host;
  const std::string& original_url = reading.target;
  const bool is_head = req.method() == bhttp::verb::head;
  // Only a valid WebSocket handshake may become a tunnel (read_request).
  const std::string upgrade_to = reading.websocket ? "websocket" : "";

  // --- decide instance: affinity first --------------------------------------
  // Held for the whole exchange: another exchange on this worker may refresh
  // w.snap while this one waits (queue, connect, response), and `inst`
  // points into this snapshot.
  w.snapshot();
  std::shared_ptr<const InstanceSnapshot> snap = w.snap;
  std::int64_t now = now_ms();
  Instance* inst = nullptr;
  bool pinned = false;
  bool had_token = false;
  bool pin_expired = false;
  // Wall-clock seconds: timed cookies (max_idle/max_life) carry Unix dates
  // that every front-door replica reads alike.
  const std::int64_t wall_s = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  Affinity::Pin pin;
  for (const auto& p : sh.affinity.request_pins(req, wall_s)) {
    had_token = true;
    if (p.expired) {
      pin_expired = true;
      continue;
    }
    if (Instance* i = snap->find_token(p.token); i && i->takes_pinned(now)) {
      inst = i;
      pinned = true;
      pin = p;
      i->pinned_requests.fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  // The sidecar's own routes (RelayConfig::local_prefix): no balancing.
  const bool to_local =
      sh.local && std::string_view(reading.target).starts_with(cfg.relay.local_prefix);
  if (to_local) {
    inst = sh.local.get();
    pinned = true;
  }
  if (pinned) stats.affinity_pinned.fetch_add(1, std::memory_order_relaxed);
  else if (had_token) stats.affinity_repinned.fetch_add(1, std::memory_order_relaxed);
  if (!pinned && pin_expired) stats.affinity_expired.fetch_add(1, std::memory_order_relaxed);

  http::strip_hop_by_hop(req);
  if (const auto& prefix = cfg.relay.strip_request_prefix; !prefix.empty()) {
    for (auto it = req.begin(); it != req.end();) {
      if (beast::iequals(it->name_string().substr(0, prefix.size()), prefix))
        it = req.erase(it);
      else
        ++it;
    }
  }
  if (cfg.relay.forwarding_headers) add_forwarding_headers(req, cs, host, original_url, log_id);
  if (to_local && !cfg.relay.peer_header.empty()) req.set(cfg.relay.peer_header, cs.ip);
  req.target(reading.target);
  req.set(bhttp::field::host, host);
  // One framing header, generated here: never the client's lines.
  http::set_framing(req, reading.framing, reading.length);
  req.version(11);
  req.keep_alive(true);
  if (!upgrade_to.empty()) {
    req.set(bhttp::field::connection, "Upgrade");
    req.set(bhttp::field::upgrade, upgrade_to);
  }

  // --- decide instance (balancing), connect or reuse, forward, read header --
  // Loops only while nothing of the request body has been consumed: after a
  // refused connect (next instance) or a pooled connection found closed
  // (same instance, fresh connection).
  // The instances tried so far, excluded from the next pick (the first 16),
  // and how many attempts were made: counted apart, so connect_attempts
  // above 16 still ends (issue 13: with down_period = 0 it looped forever).
  std::array<Instance*, 16> tried{};
  std::size_t n_tried = 0;
  std::uint32_t attempts = 0;
  std::unique_ptr<UpstreamConnection> up;
  std::optional<OutstandingGuard> outstanding;
  std::optional<ResponseParser> upr;
  std::array<char, kRelayBuffer> buf;
  bool body_started = false;
  bool fresh_only = false;
  bool sent_continue = false;
  // Logs and counts a failure; returns the reply for the client. (Replies are
  // built in plain statements: GCC 12 mishandles class temporaries inside
  // co_await expressions, see docs/core-principles.md.)
  auto failure_reply = [&](ProxyFailure failure, const std::string& detail) {
    // No instance while none is listed yet, or while some are still on
    // their first health check, is a plan starting (or scaling from zero):
    // expected, so logged at info (still counted as a 503).
    bool starting = failure == ProxyFailure::no_instance && snap->instances.empty();
    if (failure == ProxyFailure::no_instance)
      for (const auto& i : snap->instances)
        if (i->health.load(std::memory_order_relaxed) == Instance::checking) starting = true;
    sh.log->log(
        starting ? spdlog::level::info : spdlog::level::warn, "conn={} log_id={} {} {}{}{}: {}{}",
        cs.id, log_id, std::string(req.method_string()), http::loggable_target(original_url),
        inst ? " -> instance " : "", inst ? inst->id : std::string(), describe(failure), detail);
    record.status = static_cast<unsigned>(status_for(failure));
    record.inst = inst;  // null when no instance was reached
    return Reply{status_for(failure), error_body(failure, log_id)};
  };
  // The current instance failed before answering: mark it down for
  // timeouts.down_period and move on to another (the response re-pins).
  // False when connect_attempts are used up.
  auto abandon_instance = [&](const std::string& why) {
    now = now_ms();
    inst->down_until.store(now + cfg.timeouts.down_period.count(), std::memory_order_relaxed);
    sh.log->warn("conn={} log_id={} instance {} at {} {}; marked down for {} ms", cs.id, log_id,
                 inst->id, inst->address, why, cfg.timeouts.down_period.count());
    if (to_local) return false;  // nowhere else serves the sidecar's routes
    if (n_tried < tried.size()) tried[n_tried++] = inst;
    ++attempts;
    inst = nullptr;
    pinned = false;
    fresh_only = false;
    if (attempts >= cfg.limits.connect_attempts) return false;
    stats.retries.fetch_add(1, std::memory_order_relaxed);
    return true;
  };
  for (;;) {
    if (!inst) inst = sh.balancer->pick(*snap, now, std::span(tried.data(), n_tried));
    if (!inst && n_tried == 0 && cfg.timeouts.queue.count() > 0) {
      // HAProxy's timeout queue: nothing takes traffic now (a plan starting,
      // every instance down): wait for one rather than answer 503 at once.
      stats.queued.fetch_add(1, std::memory_order_relaxed);
      const std::int64_t until = now + cfg.timeouts.queue.count();
      asio::steady_timer wait(w.ctx);
      while (!inst && now < until && !sh.stopping.load(std::memory_order_relaxed)) {
        wait.expires_after(std::chrono::milliseconds(20));
        co_await wait.async_wait(use_nothrow);
        snap = sh.table->snapshot();  // nothing points into the old one yet
        now = now_ms();
        inst = sh.balancer->pick(*snap, now, {});
      }
    }
    if (!inst) {
      Reply r = failure_reply(
          n_tried == 0 ? ProxyFailure::no_instance : ProxyFailure::connect_failed, "");
      co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
      co_return After::close;
    }
    up = fresh_only ? nullptr : w.pool.take(*inst, now);
    const bool reused = up != nullptr;
    if (!up) {
      beast::error_code ec;
      up = co_await connect_upstream(w, *inst, ec);
      if (!up) {
        stats.upstream_connect_failures.fetch_add(1, std::memory_order_relaxed);
        inst->connect_failures.fetch_add(1, std::memory_order_relaxed);
        if (!abandon_instance("refused: " + ec.message())) {
          Reply r = failure_reply(ProxyFailure::connect_failed, "");
          co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
          co_return After::close;
        }
        continue;
      }
    } else {
      stats.upstream_reuses.fetch_add(1, std::memory_order_relaxed);
    }
    outstanding.emplace(inst);
    inst->requests.fetch_add(1, std::memory_order_relaxed);

    // --- forward request: header and (streamed) body -----------------------
    MessageWriter<true> out{req, reading.framing};
    if (!rp.is_done() && expect_continue && !sent_continue) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      beast::get_lowest_layer(client).expires_after(cfg.timeouts.client_body);
      auto [ec, n] = co_await asio::async_write(
          client, asio::buffer(kContinue, sizeof(kContinue) - 1), use_nothrow);
      if (ec) co_return After::close;
      sent_continue = true;
    }
    // Set when the instance failed before any byte of the body was consumed
    // and before it answered: the request can still go elsewhere.
    beast::error_code failed_before_response;
    for (;;) {
      std::size_t part = 0;
      if (!rp.is_done()) {
        req.body().data = buf.data();
        req.body().size = buf.size();
        beast::get_lowest_layer(client).expires_after(cfg.timeouts.client_body);
        auto [ec, n] = co_await bhttp::async_read(client, cbuf, rp, use_nothrow);
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) {
          int status = ec == bhttp::error::body_limit ? 413
                       : http::status_for_read_error(ec, true) ? 400
                                                               : 0;
          sh.log->info("conn={} log_id={} request body from client failed: {}", cs.id, log_id,
                       ec.message());
          if (status) {
            record.status = static_cast<unsigned>(status);
            Reply r{status, status == 413 ? error_body(ProxyFailure::body_too_large, log_id)
                                          : std::string("400 Bad Request: malformed body\n")};
            co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
          }
          co_return After::close;  // the upstream connection is dropped with `up`
        }
        part = buf.size() - req.body().size;
        body_started = true;
      }
      up->stream.expires_after(cfg.timeouts.upstream_response);
      auto ec = co_await out.write(up->stream, buf.data(), part, !rp.is_done());
      if (ec) {
        if (!body_started) {
          failed_before_response = ec;
          break;
        }
        Reply r = failure_reply(ProxyFailure::upstream_broken, " (" + ec.message() + ")");
        co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
        co_return After::close;
      }
      if (rp.is_done() && out.finished()) break;
    }

    // --- read response header (1xx interim responses are dropped) ----------
    while (!failed_before_response) {
      upr.emplace();
      upr->body_limit(boost::none);
      upr->header_limit(256 * 1024);
      if (is_head) upr->skip(true);
      up->stream.expires_after(cfg.timeouts.upstream_response);
      auto [ec, n] = co_await bhttp::async_read_header(up->stream, up->buffer, *upr, use_nothrow);
      if (ec) {
        if (!body_started && !upr->got_some() && idempotent(req.method()) &&
            (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
             ec == asio::error::eof)) {
          failed_before_response = ec;
          break;
        }
        Reply r = failure_reply(ec == beast::error::timeout ? ProxyFailure::upstream_timeout
                                                            : ProxyFailure::upstream_broken,
                                " (" + ec.message() + ")");
        co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
        co_return After::close;
      }
      auto code = upr->get().result_int();
      if (code >= 100 && code < 200 && code != 101) continue;
      break;
    }
    if (!failed_before_response) break;
    outstanding.reset();
    if (reused) {
      // A pooled connection the instance had closed: once more on a fresh one.
      stats.retries.fetch_add(1, std::memory_order_relaxed);
      fresh_only = true;
      continue;
    }
    // A fresh connection reset before any answer: the instance is dying.
    if (!abandon_instance("failed before answering: " + failed_before_response.message())) {
      Reply r = failure_reply(ProxyFailure::upstream_broken, "");
      co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
      co_return After::close;
    }
  }
  auto& res = upr->get();
  // The response's framing, decided once; refused when ambiguous.
  const http::ResponseReading rr =
      http::read_response(res, req.method(), upr->chunked(), upr->content_length());
  if (rr.fault != http::MessageFault::none) {
    Reply r = failure_reply(ProxyFailure::upstream_framing, " (" + rr.detail + ")");
    co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
    co_return After::close;
  }

  // --- filter response: opt-out header, hop-by-hop, affinity cookies -------
  // Inside an instance (relay without forwarding headers) the opt-out is
  // the front door's to read: kept.
  const bool opt_out = cfg.relay.forwarding_headers && Affinity::take_opt_out(res);
  if (opt_out) stats.affinity_opt_outs.fetch_add(1, std::memory_order_relaxed);
  bool upstream_reusable = res.keep_alive();
  if (res.result() == bhttp::status::switching_protocols) {
    if (upgrade_to.empty()) {
      Reply r = failure_reply(ProxyFailure::bad_upgrade, " (unrequested 101)");
      co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
      co_return After::close;
    }
    if (!http::websocket_accepted(res, reading.websocket_key)) {
      Reply r = failure_reply(ProxyFailure::bad_upgrade, " (Sec-WebSocket-Accept does not match)");
      co_await send_reply(client, std::move(r), client_version, cfg.timeouts.client_header);
      co_return After::close;
    }
  }
  http::strip_hop_by_hop(res);
  for (const auto& [name, value] : cfg.relay.response_headers) res.set(name, value);
  if (sh.affinity.enabled() && !opt_out && !to_local) {
    if (!pinned) {
      sh.affinity.add_cookies(res, sh.affinity.cookie_value(inst->token, wall_s, wall_s), host,
                              cs.https);
      stats.affinity_cookies_set.fetch_add(1, std::memory_order_relaxed);
    } else if (sh.affinity.needs_refresh(pin, wall_s)) {
      // A timed pin in use: the same pin, its last-seen date moved on.
      sh.affinity.add_cookies(res, sh.affinity.cookie_value(pin.token, pin.first_s, wall_s), host,
                              cs.https);
    }
  }
  if (res.result() == bhttp::status::switching_protocols) {
    // --- tunnel: send the 101, then hand both sockets to run_tunnel --------
    http::set_framing(res, http::Framing::none);
    res.set(bhttp::field::connection, "Upgrade");
    res.set(bhttp::field::upgrade, upgrade_to);
    const std::string head = http::render_head(res);
    beast::get_lowest_layer(client).expires_after(cfg.timeouts.client_body);
    auto [ec, n] = co_await asio::async_write(client, asio::buffer(head), use_nothrow);
    record.status = 101;
    record.inst = inst;
    if (ec) co_return After::close;
    beast::get_lowest_layer(client).expires_never();
    up->stream.expires_never();
    std::string to_client(static_cast<const char*>(up->buffer.data().data()), up->buffer.size());
    std::string to_upstream(static_cast<const char*>(cbuf.data().data()), cbuf.size());
    cbuf.consume(cbuf.size());
    tunnel.emplace(TunnelHandoff{up->stream.release_socket(), std::move(to_upstream),
                                 std::move(to_client)});
    if (to_local) tunnel_instance = sh.local;
    for (const auto& i : snap->instances)
      if (i.get() == inst) tunnel_instance = i;
    if (cfg.access_log)
      sh.log->info("conn={} log_id={} {} {} {} -> {}{} 101 (tunnel)", cs.id, log_id, cs.ip,
                   std::string(req.method_string()), http::loggable_target(original_url), inst->id,
                   pinned ? " (pinned)" : "");
    co_return After::tunnel;
  }
  // The framing toward the client: the same length, else chunked for
  // HTTP/1.1 clients; HTTP/1.0 clients cannot read chunks, so they get the
  // raw bytes and a close.
  http::Framing out_framing = rr.framing;
  if (rr.framing == http::Framing::until_close) upstream_reusable = false;
  if (rr.framing == http::Framing::chunked || rr.framing == http::Framing::until_close) {
    if (client_version < 11) {
      out_framing = http::Framing::until_close;
      client_keep_alive = false;
    } else {
      out_framing = http::Framing::chunked;
    }
  }
  http::set_framing(res, out_framing, rr.length);
  if (rr.advertised_length)
    res.set(bhttp::field::content_length, std::to_string(*rr.advertised_length));
  if (client_version < 11) res.version(10);
  bool keep = client_keep_alive && !sh.stopping.load(std::memory_order_relaxed);
  res.keep_alive(keep);
  const unsigned status = res.result_int();

  // --- relay response --------------------------------------------------------
  MessageWriter<false> out{res, out_framing};
  // A streamed body (no length: SSE, long polls) may wait on the instance
  // for long: notice the client leaving meanwhile (issue 15, part 4).
  std::optional<ClientDepartureWatch> watch;
  if (out_framing == http::Framing::chunked || out_framing == http::Framing::until_close)
    watch.emplace(beast::get_lowest_layer(client).socket(), up->stream.socket());
  for (;;) {
    std::size_t part = 0;
    if (!upr->is_done()) {
      res.body().data = buf.data();
      res.body().size = buf.size();
      up->stream.expires_after(cfg.timeouts.upstream_response);
      // read_some: relay what arrived at once (a streamed body such as
      // Server-Sent Events must not wait for the buffer to fill).
      auto [ec, n] = co_await bhttp::async_read_some(up->stream, up->buffer, *upr, use_nothrow);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == bhttp::error::end_of_stream && rr.framing == http::Framing::until_close) ec = {};
      if (ec && watch && watch->departed()) {
        sh.log->info("conn={} log_id={} client left during a streamed response from {}; "
                     "closing the instance connection", cs.id, log_id, inst->id);
        stats.client_departures.fetch_add(1, std::memory_order_relaxed);
        record.status = status;
        record.inst = inst;
        co_return After::close;
      }
      if (ec) {
        sh.log->warn("conn={} log_id={} response body from instance {} broke: {}", cs.id,
                     log_id, inst->id, ec.message());
        record.status = status;
        record.inst = inst;
        co_return After::close;  // the client sees a truncated body
      }
      part = buf.size() - res.body().size;
    }
    beast::get_lowest_layer(client).expires_after(cfg.timeouts.client_body);
    auto ec = co_await out.write(client, buf.data(), part, !upr->is_done());
    if (ec) {
      record.status = status;
      record.inst = inst;
      co_return After::close;
    }
    if (upr->is_done() && out.finished()) break;
  }
  watch.reset();
  record.status = status;
  record.inst = inst;
  if (cfg.access_log)
    sh.log->info("conn={} log_id={} {} {} {} -> {}{} {}", cs.id, log_id, cs.ip,
                 std::string(req.method_string()), http::loggable_target(original_url), inst->id,
                 pinned ? " (pinned)" : "", status);

  // --- pool upstream --------------------------------------------------------
  if (upstream_reusable && up->buffer.size() == 0) {
    ++up->uses;
    w.pool.put(*inst, std::move(up), now_ms());
  }
  co_return keep ? After::keep_alive : After::close;
}

// Removes the connection from the worker's registry on every exit path.
struct Registration {
  FrontServer::Worker& w;
  std::uint64_t id;
  bool handed_off = false;  // a plain tunnel took the connection over
  ~Registration() {
    if (handed_off) return;
    w.clients.erase(id);
    w.shared.stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
  }
};

// Who the client is, read once from its socket.
inline ClientSide client_side(tcp::socket& socket, std::uint64_t connection_id, bool https) {
  ClientSide cs;
  cs.id = connection_id;
  cs.https = https;
  beast::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  cs.ip = remote.address().to_string();
  cs.port = std::to_string(remote.port());
  auto local = socket.local_endpoint(ec);
  cs.local = local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                     : local.address().to_string();
  cs.local += ':';
  cs.local += std::to_string(local.port());
  socket.set_option(tcp::no_delay(true), ec);
  return cs;
}

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

// Serves one client connection until it closes: (TLS handshake,) requests
// one after another, and possibly a tunnel at the end.
template <class Stream>
asio::awaitable<void> serve_client(FrontServer::Worker& w, Stream& client, ClientSide cs) {
  auto& sh = w.shared;
  const auto& cfg = sh.config;
  auto& lowest = beast::get_lowest_layer(client);
  w.clients[cs.id] = {&lowest.socket(), false};
  Registration reg{w, cs.id};
  if constexpr (kIsTls<Stream>) {
    lowest.expires_after(cfg.timeouts.client_header);
    auto [hec] = co_await client.async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (hec) {
      sh.log->debug("conn={} TLS handshake from {}:{} failed: {}", cs.id, cs.ip, cs.port,
                    hec.message());
      sh.stats.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
      co_return;
    }
  }
  beast::flat_buffer cbuf(cfg.limits.max_header_bytes + 16 * 1024);
  bool first = true;
  std::optional<TunnelHandoff> tunnel;
  std::shared_ptr<Instance> tunnel_instance;

  for (;;) {
    if (sh.stopping.load(std::memory_order_relaxed)) break;
    if (!first && cbuf.size() == 0) {
      // Keep-alive: wait for the next request's first byte.
      w.clients[cs.id].idle = true;
      beast::get_lowest_layer(client).expires_after(cfg.timeouts.client_idle);
      auto [ec, n] = co_await client.async_read_some(cbuf.prepare(4096), use_nothrow);
      w.clients[cs.id].idle = false;
      if (ec) break;
      cbuf.commit(n);
    }
    first = false;
    RequestParser rp;
    rp.header_limit(cfg.limits.max_header_bytes);
    if (cfg.limits.max_body_bytes) rp.body_limit(cfg.limits.max_body_bytes);
    else rp.body_limit(boost::none);
    // Usually the whole header is already buffered: parse it in place, and
    // only read (under the slowloris deadline) when more is needed.
    beast::error_code ec;
    if (cbuf.size() > 0) {
      cbuf.consume(rp.put(cbuf.data(), ec));
      if (ec == bhttp::error::need_more) ec = {};
    }
    if (!ec && !rp.is_header_done())
      ec = co_await http::read_header_within(client, cbuf, rp, cfg.timeouts.client_header);
    if (ec) {
      int status = http::status_for_read_error(ec, cbuf.size() > 0 || rp.got_some());
      if (status) {
        sh.log->info("conn={} bad request from {}:{}: {} -> {}", cs.id, cs.ip, cs.port,
                     ec.message(), status);
        sh.stats.count_status(static_cast<unsigned>(status));
        Reply r{status, std::to_string(status) + " " + http::short_reason(status) + "\n"};
        co_await send_reply(client, std::move(r), 11, cfg.timeouts.client_header);
      }
      break;
    }
    // What the request means, decided once (RFC 9112): refused here when
    // two readings are possible, so no instance ever sees it.
    const http::RequestReading reading =
        http::read_request(rp.get(), rp.chunked(), rp.content_length());
    if (reading.fault != http::MessageFault::none) {
      const int status = http::status_for(reading.fault);
      sh.log->info("conn={} refused request from {}:{}: {}: {} -> {}", cs.id, cs.ip, cs.port,
                   http::describe(reading.fault), reading.detail, status);
      sh.stats.count_status(static_cast<unsigned>(status));
      sh.stats.requests_refused.fetch_add(1, std::memory_order_relaxed);
      Reply r{status, std::to_string(status) + " " + http::short_reason(status) + ": " +
                          http::describe(reading.fault) + "\n"};
      co_await send_reply(client, std::move(r), 11, cfg.timeouts.client_header);
      break;
    }
    auto after =
        co_await proxy_exchange(w, client, cbuf, rp, reading, cs, tunnel, tunnel_instance);
    if (after != After::keep_alive) break;
  }
  if (tunnel) {
    // --- tunnel (after a 101) ----------------------------------------------
    if constexpr (kIsTls<Stream>) {
      sh.stats.tunnels_open.fetch_add(1, std::memory_order_relaxed);
      sh.stats.tunnels_total.fetch_add(1, std::memory_order_relaxed);
      if (tunnel_instance) tunnel_instance->tunnels.fetch_add(1, std::memory_order_relaxed);
      w.clients[cs.id].idle = true;  // a graceful stop closes tunnels
      bool idle = co_await run_tunnel_tls(client, std::move(*tunnel), cfg.timeouts.tunnel_idle);
      if (tunnel_instance) tunnel_instance->tunnels.fetch_sub(1, std::memory_order_relaxed);
      sh.stats.tunnels_open.fetch_sub(1, std::memory_order_relaxed);
      if (idle)
        sh.stats.tunnel_idle_timeouts.fetch_add(1, std::memory_order_relaxed);
    } else {
      // The tunnel lives on its own; this coroutine (and its buffers) ends.
      reg.handed_off = true;
      start_tunnel(w, cs.id,
                   TunnelEnds{client.release_socket(), std::move(tunnel->upstream),
                              std::move(tunnel->to_upstream), std::move(tunnel->to_client)},
                   std::move(tunnel_instance));
    }
    co_return;
  }
  beast::error_code ignored;
  if constexpr (kIsTls<Stream>) {
    lowest.expires_after(std::chrono::seconds(1));
    co_await client.async_shutdown(use_nothrow);
  }
  lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
  lowest.socket().close(ignored);
}

}  // namespace
}  // namespace tether::front
