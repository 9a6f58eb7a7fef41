#include "h2_session.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/detail/rfc7230.hpp>
#include <boost/beast/http/field.hpp>

#include "tether/http/headers.hpp"

namespace tether::front::h2 {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Connection-specific fields have no place in HTTP/2 (RFC 9113 §8.2.2).
bool connection_specific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "te";
}

nghttp2_nv nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

bool preface_prefix(std::string_view bytes, bool& complete) {
  const auto n = std::min(bytes.size(), kPreface.size());
  complete = bytes.size() >= kPreface.size();
  return bytes.substr(0, n) == kPreface.substr(0, n);
}

namespace {

// A name as Beast's parser reads one: every character a token character
// (RFC 9110 §5.6.2), by the parser's own table.
bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name)
    if (!bhttp::detail::is_token_char(c)) return false;
  return true;
}

// A value as Beast's parser reads one (parse_token_to_eol): no control
// character but HTAB.
bool valid_value(std::string_view value) {
  for (const unsigned char c : value)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

}  // namespace

bool read_request(const StreamState& st, bhttp::request_parser<bhttp::buffer_body>& rp,
                  std::string& error) {
  // The part the parser judges, in a per-thread buffer (the parser keeps
  // copies of what it reads).
  thread_local std::string head;
  head.clear();
  head += st.method;
  head += ' ';
  head += st.path.empty() ? "/" : st.path;
  head += " HTTP/1.1\r\nHost: ";  // as HTTP/1.1 clients write it
  head += st.authority;
  head += "\r\n";
  for (const auto& [name, value] : st.fields) {
    if (name != "content-length") continue;
    head += "content-length: ";
    head += value;
    head += "\r\n";
  }
  if (st.chunked) head += "transfer-encoding: chunked\r\n";
  head += "\r\n";
  boost::beast::error_code ec;
  rp.put(boost::asio::buffer(head), ec);
  if (ec == bhttp::error::need_more || ec == bhttp::error::need_buffer) ec = {};
  if (ec || !rp.is_header_done()) {
    error = ec ? ec.message() : "incomplete request";
    return false;
  }
  auto& req = rp.get();
  for (const auto& [name, value] : st.fields) {
    if (name == "content-length") continue;
    if (!valid_name(name)) {
      error = "bad field name";
      return false;
    }
    if (!valid_value(value)) {
      error = "bad value in field " + name;
      return false;
    }
    req.insert(name, value);
  }
  if (!st.cookie.empty()) {
    if (!valid_value(st.cookie)) {
      error = "bad value in field cookie";
      return false;
    }
    req.insert(bhttp::field::cookie, st.cookie);
  }
  return true;
}

// --- nghttp2 callbacks ------------------------------------------------------

struct Session::Callbacks {
  static Session& self(void* user) { return *static_cast<Session*>(user); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& s = self(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    s.streams_[frame->hd.stream_id] = std::make_shared<StreamState>(s.ex_, frame->hd.stream_id);
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    auto& s = self(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto it = s.streams_.find(frame->hd.stream_id);
    if (it == s.streams_.end()) return 0;
    StreamState& st = *it->second;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    // As HTTP/1.1 counts them: name, ": ", value, CRLF.
    st.header_bytes += namelen + valuelen + 4;
    ++st.header_count;
    if (st.header_bytes > s.cfg_.limits.max_header_bytes ||
        st.header_count > s.cfg_.limits.max_header_count) {
      st.too_large = true;
      return 0;
    }
    if (n == ":method")
      st.method = v;
    else if (n == ":path")
      st.path = v;
    else if (n == ":authority")
      st.authority = v;
    else if (n.starts_with(':')) {
      // :scheme (the listener says http or https): not forwarded
    } else if (n == "cookie") {
      // Crumbs are joined again for HTTP/1.1 (RFC 9113 §8.2.3).
      if (!st.cookie.empty()) st.cookie += "; ";
      st.cookie += v;
    } else if (n == "host") {
      if (st.authority.empty()) st.authority = v;
    } else {
      if (n == "content-length") st.has_length = true;
      st.fields.emplace_back(n, v);
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& s = self(user);
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        auto it = s.streams_.find(frame->hd.stream_id);
        if (it == s.streams_.end()) break;
        auto st = it->second;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
          st->chunked = !end_stream && !st->has_length;
          st->in_eof = end_stream;
          s.stats_.h2_streams.fetch_add(1, std::memory_order_relaxed);
          s.starter_(s.shared_from_this(), st);
        } else if (end_stream) {  // trailers: dropped, the body ends
          if (st->chunked) st->in += "0\r\n\r\n";
          st->in_eof = true;
          st->wake();
        }
        break;
      }
      case NGHTTP2_DATA: {
        if (frame->hd.length == 0 && !end_stream && !s.count_control_frame()) return 0;
        if (!end_stream) break;
        auto it = s.streams_.find(frame->hd.stream_id);
        if (it == s.streams_.end()) break;
        auto& st = *it->second;
        if (st.chunked) st.in += "0\r\n\r\n";
        st.in_eof = true;
        st.wake();
        break;
      }
      case NGHTTP2_RST_STREAM:
        s.stats_.h2_streams_reset.fetch_add(1, std::memory_order_relaxed);
        break;
      case NGHTTP2_SETTINGS:
      case NGHTTP2_PING:
      case NGHTTP2_PRIORITY:
      case NGHTTP2_WINDOW_UPDATE: s.count_control_frame(); break;
      default: break;
    }
    return 0;
  }

  static int on_data_chunk_recv(nghttp2_session* ng, std::uint8_t, std::int32_t stream_id,
                                const std::uint8_t* data, std::size_t len, void* user) {
    auto& s = self(user);
    auto it = s.streams_.find(stream_id);
    if (it == s.streams_.end() || it->second->closed) {
      nghttp2_session_consume(ng, stream_id, len);  // nobody reads it: credit at once
      return 0;
    }
    StreamState& st = *it->second;
    if (st.chunked) {
      char size[24];
      int k = std::snprintf(size, sizeof size, "%zx\r\n", len);
      st.in.append(size, static_cast<std::size_t>(k));
      st.in.append(reinterpret_cast<const char*>(data), len);
      st.in += "\r\n";
    } else {
      st.in.append(reinterpret_cast<const char*>(data), len);
    }
    st.in_raw += len;
    st.wake();
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t, void* user) {
    auto& s = self(user);
    auto it = s.streams_.find(stream_id);
    if (it == s.streams_.end()) return 0;
    auto st = it->second;
    s.streams_.erase(it);
    st->close();
    return 0;
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& s = self(user);
    // Refused streams (past max_concurrent_streams) and broken responses.
    if (frame->hd.type == NGHTTP2_RST_STREAM)
      s.stats_.h2_streams_reset.fetch_add(1, std::memory_order_relaxed);
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR &&
        !s.misbehaved_) {
      s.misbehaved_ = true;
      s.stats_.h2_goaways.fetch_add(1, std::memory_order_relaxed);
      s.log_->info("conn={} HTTP/2: GOAWAY {}", s.conn_id_,
                   nghttp2_http2_strerror(frame->goaway.error_code));
    }
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source* source, void*) {
    auto& st = *static_cast<StreamState*>(source->ptr);
    const std::size_t n = std::min(length, st.out_pending());
    if (n > 0) {
      std::memcpy(buf, st.out.data() + st.out_off, n);
      st.out_off += n;
      if (st.out_off == st.out.size()) {
        st.out.clear();
        st.out_off = 0;
      }
      st.wake();  // a writer may wait for room
    }
    if (st.out_eof && st.out_pending() == 0) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    }
    if (n == 0) {
      st.deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    return static_cast<ssize_t>(n);
  }
};

Session::Session(asio::any_io_executor ex, const FrontConfig& cfg, FrontStats& stats,
                 std::shared_ptr<spdlog::logger> log, std::uint64_t connection_id, Starter starter)
    : ex_(ex),
      cfg_(cfg),
      stats_(stats),
      log_(std::move(log)),
      conn_id_(connection_id),
      starter_(std::move(starter)),
      out_signal_(ex) {}

Session::~Session() {
  for (auto& [id, st] : streams_) st->close();
  if (s_) nghttp2_session_del(s_);
}

bool Session::start() {
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Callbacks::on_data_chunk_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Callbacks::on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, &Callbacks::on_frame_send);
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cb);
    return false;
  }
  const auto& h = cfg_.http2;
  // Request bodies are credited back only as the relay reads them.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_outbound_ack(opt, h.max_queued_acks);
  nghttp2_option_set_stream_reset_rate_limit(opt, h.reset_burst, h.reset_rate);
  nghttp2_option_set_max_continuations(opt, h.max_continuations);
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_option_set_no_closed_streams(opt, 1);
  const int rv = nghttp2_session_server_new2(&s_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  if (rv != 0) return false;
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h.initial_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, cfg_.limits.max_header_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  if (nghttp2_submit_settings(s_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0)
    return false;
  // The connection's window: every stream's body together.
  nghttp2_session_set_local_window_size(s_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<std::int32_t>(h.connection_window));
  return true;
}

bool Session::receive(const char* data, std::size_t n) {
  if (misbehaved_) return false;
  const auto rv = nghttp2_session_mem_recv(s_, reinterpret_cast<const std::uint8_t*>(data), n);
  if (rv < 0) {
    if (rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC)
      terminate(rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR,
                nghttp2_strerror(static_cast<int>(rv)));
    log_->info("conn={} HTTP/2: {}", conn_id_, nghttp2_strerror(static_cast<int>(rv)));
    return false;
  }
  notify_output();
  return !misbehaved_;
}

bool Session::take_output(std::string& out, std::size_t max) {
  while (out.size() < max) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(s_, &data);
    if (n < 0) return false;
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  return true;
}

bool Session::want_read() const { return nghttp2_session_want_read(s_) != 0; }

void Session::abort_streams() {
  // Kept alive with the session: nghttp2 still holds their data providers.
  for (auto& [id, st] : streams_) {
    st->close();
    aborted_.push_back(st);
  }
  streams_.clear();
}

bool Session::count_control_frame() {
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    control_frames_ = 0;
  }
  if (++control_frames_ <= cfg_.http2.max_control_frames) return true;
  terminate(NGHTTP2_ENHANCE_YOUR_CALM, "control frames past max_control_frames a second");
  return false;
}

void Session::terminate(std::uint32_t code, const char* why) {
  if (misbehaved_ || terminating_) return;
  terminating_ = true;
  log_->info("conn={} HTTP/2: closing the connection: {}", conn_id_, why);
  nghttp2_session_terminate_session(s_, code);  // GOAWAY (counted when sent)
  notify_output();
}

void Session::consumed(StreamState& st) {
  if (st.in_raw == 0 || st.closed) return;
  nghttp2_session_consume(s_, st.id, st.in_raw);
  st.in_raw = 0;
  notify_output();
}

void Session::submit_response(StreamState& st, unsigned status, std::span<const FieldView> fields,
                              bool ends) {
  if (st.closed) return;
  char digits[8];
  const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), status);
  (void)ec;  // a status has 3 digits
  // nghttp2 copies the list and what it points at: one list per thread,
  // reused.
  thread_local std::vector<nghttp2_nv> nva;
  nva.clear();
  nva.push_back(nv(":status", std::string_view(digits, static_cast<std::size_t>(end - digits))));
  for (const auto& [name, value] : fields) nva.push_back(nv(name, value));
  nghttp2_data_provider provider{};
  provider.source.ptr = &st;
  provider.read_callback = &Callbacks::read_body;
  const int rv =
      nghttp2_submit_response(s_, st.id, nva.data(), nva.size(), ends ? nullptr : &provider);
  if (rv != 0) {
    log_->warn("conn={} HTTP/2 stream {}: response not submitted: {}", conn_id_, st.id,
               nghttp2_strerror(rv));
    reset(st, NGHTTP2_INTERNAL_ERROR);
    return;
  }
  notify_output();
}

void Session::submit_interim(StreamState& st, unsigned status) {
  if (st.closed) return;
  const std::string status_name = ":status", status_value = std::to_string(status);
  nghttp2_nv status_nv = nv(status_name, status_value);
  nghttp2_submit_headers(s_, NGHTTP2_FLAG_NONE, st.id, nullptr, &status_nv, 1, nullptr);
  notify_output();
}

void Session::resume(StreamState& st) {
  if (st.closed) return;
  if (st.deferred) {
    st.deferred = false;
    nghttp2_session_resume_data(s_, st.id);
  }
  notify_output();
}

void Session::reset(StreamState& st, std::uint32_t code) {
  if (st.closed) return;
  nghttp2_submit_rst_stream(s_, NGHTTP2_FLAG_NONE, st.id, code);
  notify_output();
}

// --- ClientStream -------------------------------------------------------------

void ClientStream::feed(const char* data, std::size_t n) {
  // Only what the relay writes as bytes comes here (its own error replies,
  // 100 Continue): a response from an instance arrives parsed (write_response).
  pending_.append(data, n);
  StreamState& st = *st_;
  std::array<char, 16 * 1024> scratch;
  while (!pending_.empty() && !broken_) {
    if (!parser_) {
      parser_.emplace();
      parser_->body_limit(boost::none);
      parser_->header_limit(256 * 1024);
      if (head_) parser_->skip(true);
    }
    auto& p = *parser_;
    auto& res = p.get();
    const bool into_scratch = p.is_header_done();  // body bytes go to `scratch`
    if (into_scratch) {
      res.body().data = scratch.data();
      res.body().size = scratch.size();
    }
    boost::beast::error_code ec;
    const std::size_t used = p.put(asio::buffer(pending_), ec);
    pending_.erase(0, used);
    if (ec == bhttp::error::need_more && used == 0) break;  // a header in pieces
    if (ec && ec != bhttp::error::need_buffer && ec != bhttp::error::need_more) {
      broken_ = true;  // the relay's own bytes: only a bug gets here
      session_->reset(st, NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (p.is_header_done() && !header_sent_) {
      const unsigned status = res.result_int();
      if (status >= 100 && status < 200) {
        session_->submit_interim(st, status);
        parser_.reset();  // the final response follows
        continue;
      }
      submit_header(res, p.is_done());
      if (p.is_done()) {
        st.out_eof = true;
        continue;
      }
    }
    if (into_scratch && header_sent_) {
      const std::size_t produced = scratch.size() - res.body().size;
      if (produced > 0) st.out.append(scratch.data(), produced);
      if (p.is_done()) st.out_eof = true;
      if (produced > 0 || p.is_done()) session_->resume(st);
    }
    if (p.is_done()) {
      pending_.clear();  // nothing follows a response on this stream
      break;
    }
  }
}

namespace {

// The lower-case name of every field Beast knows, made once: most of a
// response's names are among them, and nghttp2 wants them in lower case.
const std::vector<std::string>& lower_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    const unsigned count = static_cast<unsigned>(bhttp::field::xref) + 1;  // xref: the last one
    for (unsigned i = 0; i < count; ++i) {
      std::string lower(bhttp::to_string(static_cast<bhttp::field>(i)));
      for (char& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      v.push_back(std::move(lower));
    }
    return v;
  }();
  return names;
}

}  // namespace

void ClientStream::submit_header(const bhttp::response_header<>& res, bool ends) {
  // Known names from the table; the others in lower case, in one buffer
  // sized up front (the views into it stay valid); the values are viewed
  // where the header keeps them.
  const auto& known = lower_names();
  std::size_t name_bytes = 0, count = 0;
  for (const auto& f : res) {
    if (f.name() == bhttp::field::unknown) name_bytes += f.name_string().size();
    ++count;
  }
  // Per thread, reused (nghttp2 copies what submit_response gives it).
  thread_local std::string names;
  thread_local std::vector<Session::FieldView> fields;
  names.assign(name_bytes, '\0');
  fields.clear();
  fields.reserve(count);
  std::size_t used = 0;
  for (const auto& f : res) {
    std::string_view lower;
    const auto code = static_cast<std::size_t>(f.name());
    if (f.name() != bhttp::field::unknown && code < known.size()) {
      lower = known[code];
    } else {
      const std::string_view raw = f.name_string();
      char* name = names.data() + used;
      for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        name[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      }
      lower = std::string_view(name, raw.size());
      used += raw.size();
    }
    if (!connection_specific(lower)) fields.emplace_back(lower, f.value());
  }
  header_sent_ = true;
  session_->submit_response(*st_, res.result_int(), fields, ends);
}

asio::awaitable<boost::beast::error_code> ClientStream::write_response(
    const bhttp::response_header<>& head, const char* data, std::size_t n, bool more) {
  StreamState& st = *st_;
  if (st.closed || broken_) co_return asio::error::connection_reset;
  if (!header_sent_) {
    const bool ends = !more && n == 0;  // no body: END_STREAM on the HEADERS frame
    submit_header(head, ends);
    if (ends) {
      st.out_eof = true;
      co_return boost::beast::error_code{};
    }
  }
  bool waited = false;
  boost::system::error_code woke;
  while (st.out_pending() >= kMaxOut) {  // wait for the peer to take some
    if (!wait(waited, woke)) co_return boost::beast::error::timeout;
    auto [ec] = co_await st.signal.async_wait(asio::as_tuple(asio::use_awaitable));
    woke = ec;
    if (st.closed || broken_) co_return asio::error::connection_reset;
  }
  if (n > 0) st.out.append(data, n);
  if (!more) st.out_eof = true;
  if (n > 0 || !more) session_->resume(st);
  co_return boost::beast::error_code{};
}

void ClientStream::finish() {
  if (finished_) return;
  finished_ = true;
  StreamState& st = *st_;
  if (st.closed) return;
  if (!header_sent_ || !st.out_eof) session_->reset(st, NGHTTP2_INTERNAL_ERROR);
}

}  // namespace tether::front::h2
