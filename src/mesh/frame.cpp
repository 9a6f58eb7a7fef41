#include "tether/mesh/frame.hpp"

namespace tether::mesh {

namespace {

constexpr std::size_t kFixed = 1 + 1 + 8 + 8;  // type, kind, seq, correlation

void put_u32(std::string& out, std::uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}

void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v));
}

void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

std::uint64_t get_be(std::string_view s, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

bool take_str(std::string_view& in, std::string_view& out) {
  if (in.size() < 4) return false;
  auto n = get_be(in, 4);
  in.remove_prefix(4);
  if (in.size() < n) return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

bool known_type(std::uint8_t t) {
  return (t >= 1 && t <= 5) || (t >= 16 && t <= 20);
}

}  // namespace

FrameView view_of(const Frame& f) {
  return FrameView{f.type,   f.kind,   f.seq,   f.correlation, f.stream,
                   f.origin, f.target, f.topic, f.payload};
}

Frame to_frame(const FrameView& v) {
  Frame f;
  f.type = v.type;
  f.kind = v.kind;
  f.seq = v.seq;
  f.correlation = v.correlation;
  f.stream = v.stream;
  f.origin = v.origin;
  f.target = v.target;
  f.topic = v.topic;
  f.payload = v.payload;
  return f;
}

std::size_t encoded_size(const Frame& f) { return encoded_size(view_of(f)); }

std::size_t encoded_size(const FrameView& f) {
  return 4 + kFixed + 5 * 4 + f.stream.size() + f.origin.size() + f.target.size() +
         f.topic.size() + f.payload.size();
}

void append_frame(std::string& out, const Frame& f) { append_frame(out, view_of(f)); }

void append_frame(std::string& out, const FrameView& f) {
  put_u32(out, static_cast<std::uint32_t>(encoded_size(f) - 4));
  out += static_cast<char>(f.type);
  out += static_cast<char>(f.kind);
  put_u64(out, f.seq);
  put_u64(out, f.correlation);
  put_str(out, f.stream);
  put_str(out, f.origin);
  put_str(out, f.target);
  put_str(out, f.topic);
  put_str(out, f.payload);
}

std::string encode_control(FrameType type, std::uint64_t seq, const std::string& text) {
  Frame f;
  f.type = type;
  f.seq = seq;
  if (type == FrameType::joined || type == FrameType::left)
    f.target = text;
  else
    f.topic = text;
  std::string out;
  append_frame(out, f);
  return out;
}

std::optional<Frame> FrameReader::next() {
  auto v = next_view();
  if (!v) return std::nullopt;
  return to_frame(*v);
}

std::optional<FrameView> FrameReader::next_view() {
  if (rest_.empty() || !error_.empty()) return std::nullopt;
  if (rest_.size() < 4) {
    error_ = "truncated frame length";
    return std::nullopt;
  }
  auto len = get_be(rest_, 4);
  if (len < kFixed + 20 || rest_.size() - 4 < len) {
    error_ = "frame length " + std::to_string(len) + " does not fit the message";
    return std::nullopt;
  }
  std::string_view body = rest_.substr(4, len);
  rest_.remove_prefix(4 + len);
  auto type = static_cast<std::uint8_t>(body[0]);
  auto kind = static_cast<std::uint8_t>(body[1]);
  if (!known_type(type) || kind < 1 || kind > 6) {
    error_ = "unknown frame type " + std::to_string(type) + " / kind " + std::to_string(kind);
    return std::nullopt;
  }
  FrameView f;
  f.type = static_cast<FrameType>(type);
  f.kind = static_cast<Kind>(kind);
  f.seq = get_be(body.substr(2), 8);
  f.correlation = get_be(body.substr(10), 8);
  body.remove_prefix(kFixed);
  if (!take_str(body, f.stream) || !take_str(body, f.origin) || !take_str(body, f.target) ||
      !take_str(body, f.topic) || !take_str(body, f.payload) || !body.empty()) {
    error_ = "malformed frame fields";
    return std::nullopt;
  }
  return f;
}

}  // namespace tether::mesh
