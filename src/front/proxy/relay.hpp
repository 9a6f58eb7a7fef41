#pragma once
// Private to src/front/proxy: the relay phase, one request through the front
// door once its header is read. The only template of the proxy path (over
// the client stream, plain or TLS, and the upstream side, PooledUpstreams or
// a test's in-memory one); every decision is a call into the phases that
// are compiled once:
//
//   route (affinity, local routes, balancing)     route.hpp
//   rewrite (request header toward the instance)  rewrite.hpp
//   upstream (connect or reuse, retry policy)     upstream.hpp
//   forward request -> read response header       here
//   filter and frame the response                 rewrite.hpp
//   relay the response, or hand over a tunnel     here, tunnel.hpp
//
// Each step reports an Outcome. A failure before the response started
// becomes one error response whose status comes from the one mapping
// (tether/front/proxy_error.hpp); a failure after it closes the connection.
#include <array>
#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "tether/front/proxy_error.hpp"
#include "tether/http/headers.hpp"
#include "tether/http/message_encoder.hpp"
#include "tether/http/message_rules.hpp"
#include "tether/http/parse_errors.hpp"
#include "tether/http/redact.hpp"
#include "tether/net/random.hpp"

#include "../client_watch.hpp"
#include "../drained_read.hpp"
#include "../worker.hpp"
#include "outcome.hpp"
#include "rewrite.hpp"
#include "route.hpp"
#include "stream_ops.hpp"
#include "tunnel.hpp"
#include "upstream.hpp"

namespace tether::front::proxy {

namespace relay_detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
}  // namespace relay_detail

using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
using ResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

inline constexpr std::size_t kRelayBuffer = RelayBuffers::kSize;
// What the first read of a response header asks for: a shorter answer means
// the socket was drained (drained_read.hpp).
inline constexpr std::size_t kFirstRead = 16 * 1024;

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

// Writes a relayed message part by part: the header with the first part,
// then body bytes as they come, framed as `out` says (http::BodyEncoder),
// header and first bytes in one gather write. The header carries exactly the
// framing header that `out` needs (the caller ran http::set_framing).
template <bool isRequest>
class MessageWriter {
 public:
  // A request's `extra_lines` (rewrite_request's forwarding headers) go
  // after its fields.
  MessageWriter(const boost::beast::http::message<isRequest, boost::beast::http::buffer_body>& m,
                http::Framing out, std::string_view extra_lines = {})
      : head_(render(m, extra_lines)), encoder_(out) {}

  // Writes the header (first call) and `n` bytes at `data`; `more` = more
  // body follows. In two steps, so that the usual case costs no coroutine:
  // write_at_once writes what the socket takes at once, without the event
  // loop (write_now), and says whether that was all; if not, write_rest
  // waits for the socket to take the rest, under `timeout`, and returns the
  // write's error. `data` must stay valid until then.
  template <class Stream>
  bool write_at_once(Stream& s, const char* data, std::size_t n, bool more) {
    parts_ =
        encoder_.encode(head_sent_ ? std::string_view{} : std::string_view{head_}, data, n, more);
    head_sent_ = true;
    const std::size_t total = boost::asio::buffer_size(parts_);
    if (total == 0) return true;
    written_ = write_now(s, parts_);
    return written_ == total;
  }
  template <class Stream>
  boost::asio::awaitable<boost::beast::error_code> write_rest(
      Stream& s, std::chrono::steady_clock::duration timeout) {
    boost::beast::buffers_suffix<decltype(parts_)> rest(parts_);
    rest.consume(written_);
    set_deadline(s, timeout);
    auto [ec, w] = co_await boost::asio::async_write(s, rest, relay_detail::use_nothrow);
    co_return ec;
  }

  // Everything written (chunked: the last chunk too) once the body ended.
  bool finished() const { return head_sent_ && encoder_.finished(); }

 private:
  static std::string render(
      const boost::beast::http::message<isRequest, boost::beast::http::buffer_body>& m,
      std::string_view extra_lines) {
    if constexpr (isRequest)
      return http::render_head(m, extra_lines);
    else
      return http::render_head(m);  // responses carry no extra lines
  }

  std::string head_;
  http::BodyEncoder encoder_;
  bool head_sent_ = false;
  std::array<boost::asio::const_buffer, 4> parts_{};  // the current write
  std::size_t written_ = 0;                           // of parts_, by write_at_once
};

// The response to a kTakesResponse client: the header as parsed with the
// first write, the body unframed (the client frames it itself).
template <class Client>
class ResponseHandover {
 public:
  explicit ResponseHandover(const boost::beast::http::response_header<>& head) : head_(head) {}

  // MessageWriter's two steps; the stream takes every part in write_rest
  // and keeps its own deadlines.
  bool write_at_once(Client&, const char* data, std::size_t n, bool more) {
    data_ = data;
    n_ = n;
    more_ = more;
    return false;
  }
  boost::asio::awaitable<boost::beast::error_code> write_rest(Client& c,
                                                              std::chrono::steady_clock::duration) {
    auto ec = co_await c.write_response(head_, data_, n_, more_);
    if (!ec && !more_) done_ = true;
    co_return ec;
  }
  bool finished() const { return done_; }

 private:
  const boost::beast::http::response_header<>& head_;
  bool done_ = false;
  const char* data_ = nullptr;
  std::size_t n_ = 0;
  bool more_ = false;
};

// Writes a short error response with `status` (from a mapping: status_for
// here, http::status_for_read_error / http::status_for for request reading);
// the connection is closed afterwards. Returns false when the write failed.
template <class Stream>
boost::asio::awaitable<bool> send_reply(Stream& client, int status, std::string body,
                                        unsigned version, std::chrono::milliseconds timeout) {
  namespace bhttp = boost::beast::http;
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.set(bhttp::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.keep_alive(false);
  res.prepare_payload();
  set_deadline(client, timeout);
  auto [ec, n] = co_await bhttp::async_write(client, res, relay_detail::use_nothrow);
  co_return !ec;
}

// What one exchange leaves for the client connection.
template <class Upstream>
struct Exchanged {
  After after = After::close;
  std::optional<TunnelHandoff<Upstream>> tunnel;  // set when after == After::tunnel
};

// Per-exchange state the steps below share; lives in relay_exchange's frame.
template <class Client, class Connection>
struct ExchangeSteps {
  const FrontConfig& cfg;
  FrontStats& stats;
  spdlog::logger& log;
  const ClientSide& cs;
  const std::string& log_id;
  Client& client;
  boost::beast::flat_buffer& cbuf;
  RequestParser& rp;
  const http::RequestReading& reading;
  std::array<char, kRelayBuffer>& buf;
  const std::string& extra_lines;  // rendered after the request's fields
  FrontServer::Worker& worker;
  bool expect_continue = false;
  bool body_started = false;                         // a byte of the request body was consumed
  bool sent_continue = false;                        // the 100 Continue went out
  std::optional<MessageWriter<true>> request_out{};  // toward the current connection

  // Forwarding the request to `up` starts here: the usual request, a header
  // without a body, is written by this call itself when the socket takes it
  // (no coroutine). False when forward_request must go on (a body to relay,
  // or a rest of the header).
  bool forward_request_at_once(Connection& up) {
    request_out.emplace(rp.get(), reading.framing, extra_lines);
    if (!rp.is_done()) return false;
    return request_out->write_at_once(up.stream, buf.data(), 0, false);
  }

  // After forward_request_at_once said false: writes the rest of the
  // header, or streams the body to `up`. ok; retry when `up` failed before a
  // byte of the body was consumed; failed (upstream_broken after that;
  // body_too_large, bad_request_body for the client's body); closed when the
  // client went away.
  boost::asio::awaitable<Outcome> forward_request(Connection& up) {
    namespace asio = boost::asio;
    namespace bhttp = boost::beast::http;
    auto& req = rp.get();
    MessageWriter<true>& out = *request_out;
    if (rp.is_done()) {  // the rest of the header forward_request_at_once began
      auto ec = co_await out.write_rest(up.stream, cfg.timeouts.upstream_response);
      if (ec) co_return Outcome::retry(ec);  // no byte of a body was consumed
      co_return Outcome::ok();
    }
    if (expect_continue && !sent_continue) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      set_deadline(client, cfg.timeouts.client_body);
      auto [ec, n] = co_await asio::async_write(
          client, asio::buffer(kContinue, sizeof(kContinue) - 1), relay_detail::use_nothrow);
      if (ec) co_return Outcome::close(ec);
      sent_continue = true;
    }
    for (;;) {
      std::size_t part = 0;
      if (!rp.is_done()) {
        req.body().data = buf.data();
        req.body().size = buf.size();
        set_deadline(client, cfg.timeouts.client_body);
        auto [ec, n] = co_await bhttp::async_read(client, cbuf, rp, relay_detail::use_nothrow);
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) {
          log.info("conn={} log_id={} request body from client failed: {}", cs.id, log_id,
                   ec.message());
          if (ec == bhttp::error::body_limit)
            co_return Outcome::fail(ProxyFailure::body_too_large, ec);
          if (http::status_for_read_error(ec, true))
            co_return Outcome::fail(ProxyFailure::bad_request_body, ec);
          co_return Outcome::close(ec);  // the upstream connection is dropped with it
        }
        part = buf.size() - req.body().size;
        body_started = true;
      }
      boost::beast::error_code ec;
      if (!out.write_at_once(up.stream, buf.data(), part, !rp.is_done()))
        ec = co_await out.write_rest(up.stream, cfg.timeouts.upstream_response);
      if (ec) {
        if (!body_started) co_return Outcome::retry(ec);
        co_return Outcome::fail(ProxyFailure::upstream_broken, ec);
      }
      if (rp.is_done() && out.finished()) co_return Outcome::ok();
    }
  }

  // Reads the response header from `up` into `upr`, dropping 1xx interim
  // responses (not a 101). ok; retry when an idempotent request met a
  // closed or reset connection before any byte of an answer; failed
  // (upstream_timeout, upstream_broken) otherwise.
  boost::asio::awaitable<Outcome> read_response_head(Connection& up,
                                                     std::optional<ResponseParser>& upr) {
    namespace bhttp = boost::beast::http;
    using UpStream = std::decay_t<decltype(up.stream)>;
    auto failed = [&](const boost::beast::error_code& ec, bool got_some) {
      if (retryable_read_error(ec, body_started, got_some, rp.get().method()))
        return Outcome::retry(ec);
      return Outcome::fail(ec == boost::beast::error::timeout ? ProxyFailure::upstream_timeout
                                                              : ProxyFailure::upstream_broken,
                           ec);
    };
    for (;;) {
      upr.emplace();
      upr->body_limit(boost::none);
      upr->header_limit(256 * 1024);
      if (rp.get().method() == bhttp::verb::head) upr->skip(true);
      if constexpr (kWaitable<UpStream>) {
        if (up.buffer.size() == 0) {
          // The first bytes without the EAGAIN read (drained_read.hpp),
          // under the worker's sweep instead of the stream's timer.
          auto& socket = socket_of(up.stream);
          SweptDeadline deadline(worker, socket, now_ms() + cfg.timeouts.upstream_response.count());
          auto [ec, got] = co_await async_read_drained(socket, up.buffer.prepare(kFirstRead),
                                                       relay_detail::use_nothrow);
          if (ec) co_return failed(deadline.expired() ? boost::beast::error::timeout : ec, false);
          up.buffer.commit(got);
        }
      }
      // Usually the whole header has arrived: parsed in place, without
      // Beast's composed read (which completes through the event loop).
      if (up.buffer.size() > 0) {
        boost::beast::error_code pec;
        up.buffer.consume(upr->put(up.buffer.data(), pec));
        if (pec && pec != bhttp::error::need_more) co_return failed(pec, true);
      }
      if (!upr->is_header_done()) {
        set_deadline(up.stream, cfg.timeouts.upstream_response);
        auto [ec, n] = co_await bhttp::async_read_header(up.stream, up.buffer, *upr,
                                                         relay_detail::use_nothrow);
        if (ec) co_return failed(ec, upr->got_some());
      }
      const auto status = upr->get().result();
      if (bhttp::to_status_class(status) == bhttp::status_class::informational &&
          status != bhttp::status::switching_protocols)
        continue;
      co_return Outcome::ok();
    }
  }
};

// The client-side failures: counted without an instance, logged where they
// happen.
inline bool client_failure(ProxyFailure f) {
  return f == ProxyFailure::body_too_large || f == ProxyFailure::bad_request_body ||
         f == ProxyFailure::too_many_headers;
}

// One exchange: the request whose header `rp` has read (and `reading`
// judged) from `client`, through `upstreams`, answered to `client`. `cbuf`
// holds the client's bytes past the header. Returns what becomes of the
// client connection (keep-alive, close, or a tunnel with its handoff). Never
// throws on I/O; runs once per request.
template <class Client, class Upstreams>
boost::asio::awaitable<Exchanged<decltype(Upstreams::Connection::stream)>> relay_exchange(
    FrontServer::Worker& w, Upstreams& upstreams, Client& client, boost::beast::flat_buffer& cbuf,
    RequestParser& rp, const http::RequestReading& reading, const ClientSide& cs) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace bhttp = boost::beast::http;
  using Connection = typename Upstreams::Connection;
  using UpStream = decltype(Connection::stream);
  Exchanged<UpStream> result;
  auto& sh = w.shared;
  const auto& cfg = sh.config;
  auto& stats = sh.stats;
  auto& req = rp.get();
  const unsigned client_version = req.version();
  const std::string log_id = net::random_guid();
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  ExchangeRecord record{stats};

  // --- read request (rest of the header phase) ---------------------------
  if (std::distance(req.begin(), req.end()) > static_cast<long>(cfg.limits.max_header_count)) {
    sh.log->info("conn={} log_id={} too many header fields", cs.id, log_id);
    const ProxyFailure f = ProxyFailure::too_many_headers;
    record.status = static_cast<unsigned>(status_for(f));
    std::string body = error_body(f, log_id);
    co_await send_reply(client, status_for(f), std::move(body), client_version,
                        cfg.timeouts.client_header);
    co_return result;
  }
  // RFC 9112 §6.1: after an HTTP/1.0 request with Transfer-Encoding, close.
  const bool client_keep_alive = req.keep_alive() && !reading.close_after;
  RelayBuffers::Lease buf_lease = w.relay_buffers.take();
  std::array<char, kRelayBuffer>& buf = *buf_lease;
  std::string extra_lines;   // the forwarding headers, set by rewrite_request below
  extra_lines.reserve(256);  // their usual size: one allocation, not one per doubling
  ExchangeSteps<Client, Connection> steps{cfg,  stats, *sh.log, cs,  log_id,      client,
                                          cbuf, rp,    reading, buf, extra_lines, w};
  if (auto expect = req.find(bhttp::field::expect); expect != req.end()) {
    steps.expect_continue = bhttp::token_list(expect->value()).exists("100-continue");
    req.erase(bhttp::field::expect);  // we answer 100 ourselves, just before relaying the body
  }
  // The authoritative host (an absolute-form target's authority wins over
  // Host); an HTTP/1.0 request without one is for the address it reached.
  const std::string host = reading.host.empty() ? cs.local : reading.host;
  const std::string& original_url = reading.target;

  // --- route: affinity first ----------------------------------------------
  // Held for the whole exchange: another exchange on this worker may refresh
  // w.snap while this one waits (queue, connect, response), and `inst`
  // points into this snapshot.
  w.snapshot();
  std::shared_ptr<const InstanceSnapshot> snap = w.snap;
  std::int64_t now = now_ms();
  const std::int64_t wall_s = wall_seconds();
  RouteDecision route = route_by_affinity(sh.affinity, *snap, req, reading.target, cfg.relay,
                                          sh.local.get(), now, wall_s, stats, sh.rebalancer.get());
  Instance* inst = route.inst;

  // --- rewrite the request header -----------------------------------------
  rewrite_request(req, reading, cfg.relay, cs, host, log_id, route.to_local, extra_lines);

  // Logs and counts a failure; returns the body for the client. (Bodies are
  // built in plain statements: GCC 12 mishandles class temporaries inside
  // co_await expressions, see docs/core-principles.md.)
  auto failure_body = [&](ProxyFailure failure, const std::string& detail) {
    record.status = static_cast<unsigned>(status_for(failure));
    if (client_failure(failure)) return error_body(failure, log_id);  // logged already
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
    record.inst = inst;  // null when no instance was reached
    return error_body(failure, log_id);
  };
  // The current instance failed before answering: marked down for
  // timeouts.down_period, and the next pick avoids it (the response
  // re-pins). False when connect_attempts are used up or the route is local.
  RetryPolicy retry{cfg, stats, route.to_local};
  auto abandon_instance = [&](const std::string& why) {
    now = now_ms();
    sh.log->warn("conn={} log_id={} instance {} at {} {}; marked down for {} ms", cs.id, log_id,
                 inst->id, inst->address, why, cfg.timeouts.down_period.count());
    const bool again = retry.abandon(*inst, now);
    if (!route.to_local) {
      inst = nullptr;
      route.pinned = false;
    }
    return again;
  };

  // --- balance, connect or reuse, forward, read the response header ------
  // Loops only while nothing of the request body has been consumed: after a
  // refused connect (next instance) or a pooled connection found closed
  // (same instance, fresh connection).
  std::unique_ptr<Connection> up;
  std::optional<OutstandingGuard> outstanding;
  std::optional<ResponseParser> upr;
  Outcome o;
  std::string detail;
  for (;;) {
    if (!inst) inst = balance(*sh.balancer, *snap, now, retry.tried());
    if (!inst && retry.tried().none() && cfg.timeouts.queue.count() > 0) {
      Queued q = co_await wait_for_instance(w, snap);
      snap = std::move(q.snap);
      inst = q.inst;
      now = now_ms();
    }
    if (!inst) {
      o = Outcome::fail(retry.tried().none() ? ProxyFailure::no_instance
                                             : ProxyFailure::connect_failed);
      break;
    }
    // A pooled connection, when the upstream side can hand one over by a
    // plain call (no coroutine frame); else connected (or taken) by its
    // acquire.
    BasicLease<Connection> lease;
    if constexpr (requires { upstreams.take_pooled(*inst, retry.fresh_only(), now); })
      lease = upstreams.take_pooled(*inst, retry.fresh_only(), now);
    if (!lease.conn) lease = co_await upstreams.acquire(*inst, retry.fresh_only(), now);
    if (!lease.conn) {
      if (!abandon_instance("refused: " + lease.ec.message())) {
        o = Outcome::fail(ProxyFailure::connect_failed);
        break;
      }
      continue;
    }
    up = std::move(lease.conn);
    outstanding.emplace(inst);
    inst->requests.fetch_add(1, std::memory_order_relaxed);
    if (steps.forward_request_at_once(*up))
      o = Outcome::ok();
    else
      o = co_await steps.forward_request(*up);
    if (o.is_ok()) o = co_await steps.read_response_head(*up, upr);
    if (o.kind != Outcome::Kind::retry) break;
    outstanding.reset();
    if (lease.reused) {
      // A pooled connection the instance had closed: once more on a fresh one.
      retry.retry_fresh();
      continue;
    }
    // A fresh connection reset before any answer: the instance is dying.
    if (!abandon_instance("failed before answering: " + o.ec.message())) {
      o = Outcome::fail(ProxyFailure::upstream_broken);
      break;
    }
  }
  if (o.kind == Outcome::Kind::closed) co_return result;
  if (o.failed()) {
    if (o.ec) detail = " (" + o.ec.message() + ")";
    std::string body = failure_body(o.failure, detail);
    co_await send_reply(client, o.status(), std::move(body), client_version,
                        cfg.timeouts.client_header);
    co_return result;
  }
  auto& res = upr->get();
  // The response's framing, decided once; refused when ambiguous.
  const http::ResponseReading rr =
      http::read_response(res, req.method(), upr->chunked(), upr->content_length());
  if (rr.fault != http::MessageFault::none) {
    const ProxyFailure f = ProxyFailure::upstream_framing;
    std::string body = failure_body(f, " (" + rr.detail + ")");
    co_await send_reply(client, status_for(f), std::move(body), client_version,
                        cfg.timeouts.client_header);
    co_return result;
  }

  // --- filter the response: opt-out header, 101 checks, cookies -----------
  const ResponseFilter filter =
      filter_response(res, sh.affinity, cfg.relay, route, *inst, host, cs.https, wall_s,
                      reading.websocket, reading.websocket_key, stats);
  inst->note_portable(filter.portable);
  if (filter.failure) {
    std::string body = failure_body(*filter.failure, filter.detail);
    co_await send_reply(client, status_for(*filter.failure), std::move(body), client_version,
                        cfg.timeouts.client_header);
    co_return result;
  }
  if (res.result() == bhttp::status::switching_protocols) {
    // --- tunnel: send the 101, then hand both streams over ---------------
    prepare_upgrade_response(res);
    const std::string head = http::render_head(res);
    set_deadline(client, cfg.timeouts.client_body);
    auto [ec, n] =
        co_await asio::async_write(client, asio::buffer(head), relay_detail::use_nothrow);
    record.status = res.result_int();
    record.inst = inst;
    if (ec) co_return result;
    std::string to_client(static_cast<const char*>(up->buffer.data().data()), up->buffer.size());
    std::string to_upstream(static_cast<const char*>(cbuf.data().data()), cbuf.size());
    cbuf.consume(cbuf.size());
    std::shared_ptr<Instance> tunnel_instance;
    if (route.to_local) tunnel_instance = sh.local;
    for (const auto& i : snap->instances)
      if (i.get() == inst) tunnel_instance = i;
    if (cfg.access_log)
      sh.log->info("conn={} log_id={} {} {} {} -> {}{} 101 (tunnel)", cs.id, log_id, cs.ip,
                   std::string(req.method_string()), http::loggable_target(original_url), inst->id,
                   route.pinned ? " (pinned)" : "");
    result.tunnel.emplace(TunnelHandoff<UpStream>{std::move(up->stream), std::move(to_upstream),
                                                  std::move(to_client),
                                                  std::move(tunnel_instance)});
    result.after = After::tunnel;
    co_return result;
  }
  const ResponseFraming framing =
      frame_response(res, rr, client_version, client_keep_alive, filter.upstream_keep_alive,
                     sh.stopping.load(std::memory_order_relaxed));
  const unsigned status = res.result_int();

  // --- relay the response --------------------------------------------------
  auto out = [&] {
    if constexpr (kTakesResponse<Client>)
      return ResponseHandover<Client>{res};
    else
      return MessageWriter<false>{res, framing.out};
  }();
  // A streamed body (no length: SSE, long polls) may wait on the instance
  // for long: notice the client leaving meanwhile (issue 15, part 4).
  const bool streamed =
      framing.out == http::Framing::chunked || framing.out == http::Framing::until_close;
  std::optional<ClientDepartureWatch> watch;
  if constexpr (kOnSocket<Client> && kOnSocket<UpStream>) {
    if (streamed)
      watch.emplace(beast::get_lowest_layer(client).socket(),
                    beast::get_lowest_layer(up->stream).socket());
  }
  // An HTTP/2 stream watches itself (its client's RST_STREAM). Declared
  // after `up`: cleared before the upstream connection goes.
  auto self_watch = [&] {
    if constexpr (kSelfWatching<Client> && kOnSocket<UpStream>)
      return client.watch_upstream(streamed ? &beast::get_lowest_layer(up->stream).socket()
                                            : nullptr);
    else
      return NoWatch{};
  }();
  record.status = status;
  record.inst = inst;
  for (;;) {
    std::size_t part = 0;
    if (!upr->is_done()) {
      res.body().data = buf.data();
      res.body().size = buf.size();
      set_deadline(up->stream, cfg.timeouts.upstream_response);
      // read_some: relay what arrived at once (a streamed body such as
      // Server-Sent Events must not wait for the buffer to fill).
      auto [ec, n] =
          co_await bhttp::async_read_some(up->stream, up->buffer, *upr, relay_detail::use_nothrow);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == bhttp::error::end_of_stream && rr.framing == http::Framing::until_close) ec = {};
      if (ec && ((watch && watch->departed()) || client_departed(client))) {
        sh.log->info(
            "conn={} log_id={} client left during a streamed response from {}; "
            "closing the instance connection",
            cs.id, log_id, inst->id);
        stats.client_departures.fetch_add(1, std::memory_order_relaxed);
        co_return result;
      }
      if (ec) {
        sh.log->warn("conn={} log_id={} response body from instance {} broke: {}", cs.id, log_id,
                     inst->id, ec.message());
        co_return result;  // the client sees a truncated body
      }
      part = buf.size() - res.body().size;
    }
    beast::error_code ec;
    if (!out.write_at_once(client, buf.data(), part, !upr->is_done()))
      ec = co_await out.write_rest(client, cfg.timeouts.client_body);
    if (ec) co_return result;
    if (upr->is_done() && out.finished()) break;
  }
  watch.reset();
  self_watch.reset();
  if (cfg.access_log)
    sh.log->info("conn={} log_id={} {} {} {} -> {}{} {}", cs.id, log_id, cs.ip,
                 std::string(req.method_string()), http::loggable_target(original_url), inst->id,
                 route.pinned ? " (pinned)" : "", status);

  // --- pool the upstream connection ---------------------------------------
  upstreams.release(*inst, std::move(up), framing.upstream_reusable);
  result.after = framing.client_keep_alive ? After::keep_alive : After::close;
  co_return result;
}

}  // namespace tether::front::proxy
