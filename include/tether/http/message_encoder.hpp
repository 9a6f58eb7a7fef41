#pragma once
// Writing a forwarded HTTP/1.x message: the header with exactly one framing
// header that tether generated (RFC 9112 §6: one Content-Length, one
// "Transfer-Encoding: chunked", or none), never the lines the sender wrote,
// and the body framed to match. Pure: it renders bytes, the caller writes them.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>

#include "tether/http/message_rules.hpp"

namespace tether::http {

// Removes every Content-Length and Transfer-Encoding line from `f`, then
// adds the one that `out` needs: "Content-Length: <length>" for
// Framing::length, "Transfer-Encoding: chunked" for Framing::chunked,
// nothing for none/until_close. Safe to call twice.
void set_framing(boost::beast::http::fields& f, Framing out, std::uint64_t length = 0);

// The start line and fields of `m` as one buffer, ending in the blank line.
// Requests go out as "HTTP/1.1", responses with m.version() (10 or 11).
// A request's `extra_lines` ("Name: value\r\n" each) go after m's fields.
std::string render_head(const boost::beast::http::request_header<>& m,
                        std::string_view extra_lines = {});
std::string render_head(const boost::beast::http::response_header<>& m);

// Frames body bytes for the wire as they come: raw for Framing::length,
// none and until_close; chunks (hex size, CRLF, data, CRLF, and the last
// chunk "0\r\n\r\n" at the end) for Framing::chunked. Chunk extensions and
// trailers of the received message are never passed on.
class BodyEncoder {
 public:
  explicit BodyEncoder(Framing out) : chunked_(out == Framing::chunked) {}

  // The buffers to write, in order, for `head` (empty after the first call)
  // followed by `n` body bytes at `data`; `more` = more body follows. The
  // buffers point into `head`, `data` and this encoder: valid until the
  // next call.
  std::array<boost::asio::const_buffer, 4> encode(std::string_view head, const char* data,
                                                  std::size_t n, bool more);

  // True once encode() was called with more == false.
  bool finished() const { return finished_; }

 private:
  bool chunked_;
  bool finished_ = false;
  char size_line_[20];
};

}  // namespace tether::http
