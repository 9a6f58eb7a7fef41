#include "tether/http/message_encoder.hpp"

#include <charconv>
#include <cstring>
#include <initializer_list>
#include <iterator>

namespace tether::http {

namespace bhttp = boost::beast::http;

void set_framing(bhttp::fields& f, Framing out, std::uint64_t length) {
  // One pass by the fields' codes, then an insert: no search of Beast's
  // index by name.
  for (auto it = f.begin(); it != f.end();) {
    const auto name = it->name();
    it = name == bhttp::field::content_length || name == bhttp::field::transfer_encoding
             ? f.erase(it)
             : std::next(it);
  }
  if (out == Framing::length)
    f.insert(bhttp::field::content_length, std::to_string(length));
  else if (out == Framing::chunked)
    f.insert(bhttp::field::transfer_encoding, "chunked");
}

namespace {

// The start line's pieces, the fields as "Name: value\r\n" lines, then
// `extra_lines` and the blank line: sized once, then copied.
std::string render(std::initializer_list<std::string_view> start_line, const bhttp::fields& f,
                   std::string_view extra_lines) {
  std::size_t size = extra_lines.size() + 2;
  for (auto piece : start_line) size += piece.size();
  for (const auto& field : f) size += field.name_string().size() + field.value().size() + 4;
  std::string out;
  out.resize(size);
  char* p = out.data();
  auto put = [&p](std::string_view v) {
    if (v.empty()) return;  // an empty view may have no data at all
    std::memcpy(p, v.data(), v.size());
    p += v.size();
  };
  for (auto piece : start_line) put(piece);
  for (const auto& field : f) {
    put(field.name_string());
    put(": ");
    put(field.value());
    put("\r\n");
  }
  put(extra_lines);
  put("\r\n");
  return out;
}

}  // namespace

std::string render_head(const bhttp::request_header<>& m, std::string_view extra_lines) {
  return render({m.method_string(), " ", m.target(), " HTTP/1.1\r\n"}, m, extra_lines);
}

std::string render_head(const bhttp::response_header<>& m) {
  char code[16];
  const auto [end, ec] = std::to_chars(code, code + sizeof code, m.result_int());
  return render(
      {m.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ",
       std::string_view(code, static_cast<std::size_t>(end - code)), " ", m.reason(), "\r\n"},
      m, {});
}

std::array<boost::asio::const_buffer, 4> BodyEncoder::encode(std::string_view head,
                                                             const char* data, std::size_t n,
                                                             bool more) {
  namespace asio = boost::asio;
  std::array<asio::const_buffer, 4> out{asio::buffer(head.data(), head.size())};
  if (finished_) return out;
  finished_ = !more;
  if (!chunked_) {
    out[1] = asio::buffer(data, n);
    return out;
  }
  static constexpr char kCrlf[] = "\r\n";
  static constexpr char kCrlfLast[] = "\r\n0\r\n\r\n";
  static constexpr char kHex[] = "0123456789abcdef";
  if (n > 0) {
    char digits[16];
    int d = 0;
    for (std::size_t v = n; v; v >>= 4) digits[d++] = kHex[v & 0xf];
    int i = 0;
    while (d) size_line_[i++] = digits[--d];
    size_line_[i++] = '\r';
    size_line_[i++] = '\n';
    out[1] = asio::buffer(size_line_, static_cast<std::size_t>(i));
    out[2] = asio::buffer(data, n);
    out[3] = more ? asio::buffer(kCrlf, 2) : asio::buffer(kCrlfLast, sizeof(kCrlfLast) - 1);
  } else if (!more) {
    out[3] = asio::buffer(kCrlfLast + 2, sizeof(kCrlfLast) - 3);  // "0\r\n\r\n"
  }
  return out;
}

}  // namespace tether::http
