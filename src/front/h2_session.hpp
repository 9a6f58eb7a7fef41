#pragma once
// Private to src/front: HTTP/2 toward clients (issue 15, part 2), on
// nghttp2's server session. One Session per client connection; each request
// stream is turned into the HTTP/1.1 exchange the proxy path already knows
// (ClientStream below: an in-memory stream carrying the request as HTTP/1.1
// bytes one way and the response the other), so affinity, forwarding
// headers, the opt-out header, retries and every error status are exactly
// those of HTTP/1.1: the same proxy::relay_exchange runs for each stream.
//
// What nghttp2 guards (its options, set from Http2Config): concurrent
// streams, header list size (HPACK), CONTINUATION floods
// (max_continuations), queued SETTINGS/PING acknowledgements
// (max_outbound_ack), rapid reset (a token bucket on RST_STREAM,
// CVE-2023-44487). What this file adds: a per-second budget of control
// frames (SETTINGS, PING, PRIORITY, WINDOW_UPDATE, empty DATA), and request
// bodies held to the flow-control window (credit is returned only as the
// relay reads them). Single-threaded: everything runs on the worker's
// io_context.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <spdlog/logger.h>

#include "tether/front/config.hpp"
#include "tether/front/stats.hpp"

struct nghttp2_session;

namespace tether::front::h2 {

namespace asio = boost::asio;

// One request stream, shared by the Session (which fills the request inbox
// and drains the response outbox) and the stream's coroutine (through
// ClientStream).
struct StreamState {
  StreamState(asio::any_io_executor ex, std::int32_t stream_id) : id(stream_id), signal(ex) {}
  const std::int32_t id;
  // The request, from HEADERS.
  std::string method, authority, path, cookie;
  std::vector<std::pair<std::string, std::string>> fields;  // regular fields (lowercase names)
  std::size_t header_bytes = 0, header_count = 0;
  bool too_large = false;   // past limits.max_header_bytes / max_header_count: 431
  bool has_length = false;  // content-length given
  // The request body as HTTP/1.1 bytes for the relay (chunk-framed when
  // `chunked`), and the DATA bytes among them not yet credited back.
  std::string in;
  std::size_t in_raw = 0;
  bool chunked = false;
  bool in_eof = false;  // END_STREAM received
  // The response body waiting for nghttp2's data provider.
  std::string out;
  std::size_t out_off = 0;
  bool out_eof = false;   // the body ended: the provider ends the stream
  bool deferred = false;  // the provider is waiting for more
  bool closed = false;    // the stream closed (reset by either side, or done)
  // While a streamed response is relayed: the instance connection, whose
  // read is cancelled when the client resets the stream (ClientStream::watch_upstream).
  boost::asio::ip::tcp::socket* upstream = nullptr;
  void close() {
    closed = true;
    if (upstream) {
      boost::system::error_code ignored;
      upstream->cancel(ignored);
    }
    wake();
  }
  asio::steady_timer signal;  // the stream's coroutine waits on it; wake() cancels
  void wake() { signal.cancel(); }
  std::size_t out_pending() const { return out.size() - out_off; }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // Called once per request whose header block is complete.
  using Starter = std::function<void(std::shared_ptr<Session>, std::shared_ptr<StreamState>)>;

  Session(asio::any_io_executor ex, const FrontConfig& cfg, FrontStats& stats,
          std::shared_ptr<spdlog::logger> log, std::uint64_t connection_id, Starter starter);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Queues the server's SETTINGS. False when nghttp2 cannot be set up.
  bool start();
  // Bytes read from the client (the connection preface first). False: the
  // session is over (a protocol error or a flood: a GOAWAY may be queued).
  bool receive(const char* data, std::size_t n);
  // Appends what nghttp2 has to send (at most about `max` bytes) to `out`.
  // False on a fatal error.
  bool take_output(std::string& out, std::size_t max = 64 * 1024);
  bool want_read() const;
  // The connection is gone: every open stream is closed and woken.
  void abort_streams();
  std::size_t open_streams() const { return streams_.size(); }
  // The connection's writer waits on this; any new output cancels it.
  asio::steady_timer& output_signal() { return out_signal_; }
  void notify_output() { out_signal_.cancel(); }

  // --- the stream coroutine's side (ClientStream) ---
  // The relay drained the request inbox: flow-control credit goes back.
  void consumed(StreamState& st);
  // A response header (`status`, fields already without connection-specific
  // ones, names in lower case; nghttp2 copies them). `ends` = no body follows
  // (END_STREAM on the HEADERS frame).
  using FieldView = std::pair<std::string_view, std::string_view>;
  void submit_response(StreamState& st, unsigned status, std::span<const FieldView> fields,
                       bool ends);
  // An interim (1xx) response header.
  void submit_interim(StreamState& st, unsigned status);
  // More of the response body (or its end) is in st.out.
  void resume(StreamState& st);
  // Ends the stream with RST_STREAM `code` (the response broke off).
  void reset(StreamState& st, std::uint32_t code);

  FrontStats& stats() { return stats_; }
  const FrontConfig& config() const { return cfg_; }

 private:
  struct Callbacks;
  friend struct Callbacks;
  bool count_control_frame();
  void terminate(std::uint32_t code, const char* why);

  asio::any_io_executor ex_;
  const FrontConfig& cfg_;
  FrontStats& stats_;
  std::shared_ptr<spdlog::logger> log_;
  const std::uint64_t conn_id_;
  Starter starter_;
  nghttp2_session* s_ = nullptr;
  std::unordered_map<std::int32_t, std::shared_ptr<StreamState>> streams_;
  asio::steady_timer out_signal_;
  // Control frames in the current second (Http2Config::max_control_frames).
  std::chrono::steady_clock::time_point window_start_{};
  std::uint32_t control_frames_ = 0;
  bool misbehaved_ = false;
  bool terminating_ = false;
  std::vector<std::shared_ptr<StreamState>> aborted_;
};

// The client side of one stream as the relay sees it: reading gives the
// request body as HTTP/1.1 bytes; what the relay writes (an HTTP/1.1
// response) is parsed and handed to nghttp2 as HEADERS and DATA. Satisfies
// AsyncReadStream and AsyncWriteStream; has no socket (the relay sets no
// client deadlines on it: the connection's idle timeout and the upstream's
// deadlines apply).
class ClientStream {
 public:
  using executor_type = asio::any_io_executor;
  static constexpr std::size_t kMaxOut = 64 * 1024;  // response bytes buffered per stream

  ClientStream(std::shared_ptr<Session> session, std::shared_ptr<StreamState> st, bool head)
      : session_(std::move(session)), st_(std::move(st)), head_(head) {}

  executor_type get_executor() { return st_->signal.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        [this, buffers, waited = false](auto& self, boost::system::error_code ec = {}) mutable {
          StreamState& st = *st_;
          if (!st.in.empty()) {
            const std::size_t n = asio::buffer_copy(buffers, asio::buffer(st.in));
            st.in.erase(0, n);
            if (st.in.empty()) session_->consumed(st);
            self.complete({}, n);
            return;
          }
          if (st.in_eof) {
            self.complete(asio::error::eof, 0);
            return;
          }
          if (st.closed) {
            self.complete(asio::error::connection_reset, 0);
            return;
          }
          if (!wait(waited, ec)) {
            self.complete(boost::beast::error::timeout, 0);
            return;
          }
          st.signal.async_wait(std::move(self));
        },
        token, st_->signal);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        [this, buffers, waited = false](auto& self, boost::system::error_code ec = {}) mutable {
          StreamState& st = *st_;
          if (st.closed || broken_) {
            self.complete(asio::error::connection_reset, 0);
            return;
          }
          if (st.out_pending() >= kMaxOut) {  // wait for the peer to take some
            if (!wait(waited, ec)) {
              self.complete(boost::beast::error::timeout, 0);
              return;
            }
            st.signal.async_wait(std::move(self));
            return;
          }
          std::size_t n = 0;
          for (auto b : boost::beast::buffers_range_ref(buffers)) {
            feed(static_cast<const char*>(b.data()), b.size());
            n += b.size();
          }
          if (broken_) {
            self.complete(asio::error::connection_reset, 0);
            return;
          }
          self.complete({}, n);
        },
        token, st_->signal);
  }

  // proxy::kTakesResponse: the relay's response as parsed (the final
  // header, given again with every call) and `n` body bytes at `data`,
  // unframed; `more` = more body follows. Waits while kMaxOut bytes are
  // waiting for the client, as async_write_some does.
  boost::asio::awaitable<boost::beast::error_code> write_response(
      const boost::beast::http::response_header<>& head, const char* data, std::size_t n,
      bool more);

  // For proxy::close_stream on a stream without a socket.
  void close() { finish(); }

  // Clears StreamState::upstream when it goes (before the relay lets the
  // instance connection go).
  class UpstreamWatch {
   public:
    explicit UpstreamWatch(StreamState* st) : st_(st) {}
    UpstreamWatch(UpstreamWatch&& o) noexcept : st_(std::exchange(o.st_, nullptr)) {}
    UpstreamWatch& operator=(UpstreamWatch&&) = delete;
    ~UpstreamWatch() { reset(); }
    void reset() {
      if (st_) st_->upstream = nullptr;
      st_ = nullptr;
    }

   private:
    StreamState* st_;
  };
  // proxy::kSelfWatching: the relay hands over the instance connection of a
  // streamed response (null: none), for as long as the guard lives.
  UpstreamWatch watch_upstream(boost::asio::ip::tcp::socket* s) {
    st_->upstream = s;
    return UpstreamWatch(s ? st_.get() : nullptr);
  }
  // The client reset the stream (or the connection went).
  bool departed() const { return st_->closed; }
  // After the exchange: a response that did not end is reset. May run twice.
  void finish();

 private:
  // Arms the stream's signal for one more wait, bounded by
  // timeouts.client_body from the last progress (a client that neither
  // sends its body nor reads the response lets its instance connection go,
  // as over HTTP/1.1). False: the previous wait ran out (`ec` clear after a
  // wait): the operation ends with a timeout.
  bool wait(bool& waited, const boost::system::error_code& ec) {
    if (waited && !ec) return false;
    waited = true;
    st_->signal.expires_after(session_->config().timeouts.client_body);
    return true;
  }

  // Parses `n` response bytes the relay wrote; hands header and body on.
  void feed(const char* data, std::size_t n);
  // Hands the final response header to nghttp2 (connection-specific fields
  // dropped, names lowercased).
  void submit_header(const boost::beast::http::response_header<>& res, bool ends);

  std::shared_ptr<Session> session_;
  std::shared_ptr<StreamState> st_;
  bool head_;
  std::string pending_;  // response bytes not parsed yet (a header in pieces)
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  bool header_sent_ = false;
  bool broken_ = false;
  bool finished_ = false;
};

// Reads a stream's request into `rp` as the HTTP/1.1 path would: the
// request line, Host (from :authority) and the body's framing
// (content-length, or Transfer-Encoding: chunked when the length is
// unknown) are parsed by `rp` itself, so one set of rules judges the
// framing of both protocols; the other fields and the cookie crumbs
// (joined, RFC 9113 §8.2.3) are inserted after the character checks the
// HTTP/1.1 parser makes (a name a token; a value without control
// characters but HTAB). False, with `error`, when the parse or a check
// fails: the request is refused with 400 and never half-read.
bool read_request(const StreamState& st,
                  boost::beast::http::request_parser<boost::beast::http::buffer_body>& rp,
                  std::string& error);

// True when `bytes` (what a cleartext connection sent first) is the HTTP/2
// connection preface or could still become it (`complete` false then).
bool preface_prefix(std::string_view bytes, bool& complete);

}  // namespace tether::front::h2
