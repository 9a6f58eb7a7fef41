// The MessagePack hub protocol (HubProtocol.md, "MessagePack Encoding"),
// with msgpack-cxx. The only translation unit that includes msgpack: its
// headers are heavy and header-only.
//
//   Invocation        [1, Headers, InvocationId|nil, Target, [Arguments], [StreamIds]?]
//   StreamItem        [2, Headers, InvocationId, Item]
//   Completion        [3, Headers, InvocationId, ResultKind (1 error, 2 void, 3 result), Result?]
//   StreamInvocation  [4, Headers, InvocationId, Target, [Arguments], [StreamIds]?]
//   CancelInvocation  [5, Headers, InvocationId]
//   Ping              [6]
//   Close             [7, Error|nil, AllowReconnect?]
//   Ack               [8, SequenceId]      Sequence [9, SequenceId]
#define MSGPACK_NO_BOOST 1
#include <msgpack.hpp>

#include "msgpack_codec.hpp"

#include <cstdio>
#include <cstring>
#include <limits>
#include <ctime>

#include "tether/net/base64.hpp"

namespace tether::realtime::msgpack_codec {

namespace {

// One message being written: a buffer and its packer.
class Writer {
 public:
  void nil() { p_.pack_nil(); }
  void boolean(bool b) { b ? p_.pack_true() : p_.pack_false(); }
  void integer(int i) { p_.pack_int(i); }
  void array(std::size_t n) { p_.pack_array(static_cast<std::uint32_t>(n)); }
  void str(std::string_view s) {
    p_.pack_str(static_cast<std::uint32_t>(s.size()));
    p_.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
  }
  // Always float64: msgpack-cxx's pack_double writes an integral double as
  // an integer, so 2.0 would reach the client as 2 (and a double-typed .NET
  // parameter sees another type than ASP.NET Core sends).
  void float64(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    char out[9];
    out[0] = static_cast<char>(0xcb);
    for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
    buffer_.write(out, sizeof out);
  }
  void value(const json::value& v) {
    switch (v.kind()) {
      case json::kind::null: nil(); break;
      case json::kind::bool_: boolean(v.get_bool()); break;
      case json::kind::int64: p_.pack_int64(v.get_int64()); break;
      case json::kind::uint64: p_.pack_uint64(v.get_uint64()); break;
      case json::kind::double_: float64(v.get_double()); break;
      case json::kind::string: str(v.get_string()); break;
      case json::kind::array:
        array(v.get_array().size());
        for (const auto& e : v.get_array()) value(e);
        break;
      case json::kind::object:
        p_.pack_map(static_cast<std::uint32_t>(v.get_object().size()));
        for (const auto& kv : v.get_object()) {
          str(kv.key());
          value(kv.value());
        }
        break;
    }
  }
  // [type, {} (no headers), invocation id or nil, ...]: the common head.
  void head(int type, std::size_t size, std::string_view invocation_id) {
    array(size);
    integer(type);
    p_.pack_map(0);
    if (invocation_id.empty())
      nil();
    else
      str(invocation_id);
  }
  // The message preceded by its VarInt length.
  std::string framed() const {
    return binary_frame(std::string_view(buffer_.data(), buffer_.size()));
  }

 private:
  msgpack::sbuffer buffer_;
  msgpack::packer<msgpack::sbuffer> p_{buffer_};
};

// A MessagePack timestamp (extension -1) as JSON.stringify writes a Date.
std::string iso8601(std::int64_t seconds, std::uint32_t nanoseconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[96];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                nanoseconds / 1'000'000);
  return out;
}

struct Invalid {
  std::string what;
};

std::uint64_t read_be(const char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

json::value to_json(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return nullptr;
    case msgpack::type::BOOLEAN: return o.via.boolean;
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(o.via.u64);
      return o.via.u64;
    case msgpack::type::NEGATIVE_INTEGER: return o.via.i64;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return o.via.f64;
    case msgpack::type::STR: return json::string(o.via.str.ptr, o.via.str.size);
    case msgpack::type::BIN:
      return json::string(net::base64_encode(std::string_view(o.via.bin.ptr, o.via.bin.size)));
    case msgpack::type::ARRAY: {
      json::array a;
      a.reserve(o.via.array.size);
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) a.push_back(to_json(o.via.array.ptr[i]));
      return a;
    }
    case msgpack::type::MAP: {
      json::object m;
      m.reserve(o.via.map.size);
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) throw Invalid{"a map key is not a string"};
        m[std::string_view(kv.key.via.str.ptr, kv.key.via.str.size)] = to_json(kv.val);
      }
      return m;
    }
    case msgpack::type::EXT: {
      // The timestamp extension, in its three sizes.
      const char* d = o.via.ext.data();
      const auto n = o.via.ext.size;
      if (o.via.ext.type() == -1) {
        if (n == 4) return json::string(iso8601(static_cast<std::int64_t>(read_be(d, 4)), 0));
        if (n == 8) {
          auto v = read_be(d, 8);
          return json::string(iso8601(static_cast<std::int64_t>(v & 0x3ffffffffULL),
                                      static_cast<std::uint32_t>(v >> 34)));
        }
        if (n == 12)
          return json::string(iso8601(static_cast<std::int64_t>(read_be(d + 4, 8)),
                                      static_cast<std::uint32_t>(read_be(d, 4))));
      }
      throw Invalid{"unsupported MessagePack extension type " + std::to_string(o.via.ext.type())};
    }
  }
  throw Invalid{"unknown MessagePack type"};
}

const msgpack::object& at(const msgpack::object_array& a, std::uint32_t i) { return a.ptr[i]; }

std::string read_string(const msgpack::object& o, const char* name) {
  if (o.type != msgpack::type::STR)
    throw Invalid{std::string("Reading '") + name + "' as String failed."};
  return std::string(o.via.str.ptr, o.via.str.size);
}

// An invocation id: a string, or nil when `optional`.
std::string read_invocation_id(const msgpack::object& o, bool optional) {
  if (optional && o.type == msgpack::type::NIL) return {};
  return read_string(o, "invocationId");
}

void check_headers(const msgpack::object& o) {
  if (o.type != msgpack::type::MAP) throw Invalid{"Reading map length for 'headers' failed."};
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    if (o.via.map.ptr[i].key.type != msgpack::type::STR ||
        o.via.map.ptr[i].val.type != msgpack::type::STR)
      throw Invalid{"Reading 'headers' failed: keys and values must be strings."};
  }
}

void need(const msgpack::object_array& a, std::uint32_t n, const char* what) {
  if (a.size < n)
    throw Invalid{std::string("Invalid payload for ") + what + " message: expected " +
                  std::to_string(n) + " elements, got " + std::to_string(a.size) + "."};
}

}  // namespace

std::string invocation(std::string_view target, const json::array& arguments,
                       std::string_view invocation_id) {
  Writer w;
  w.head(1, 5, invocation_id);
  w.str(target);
  w.array(arguments.size());
  for (const auto& a : arguments) w.value(a);
  return w.framed();
}

std::string completion(std::string_view invocation_id, int kind, const json::value* result,
                       std::string_view error) {
  Writer w;
  w.head(3, kind == 2 ? 4 : 5, invocation_id);
  w.integer(kind);
  if (kind == 1)
    w.str(error);
  else if (kind == 3)
    w.value(*result);
  return w.framed();
}

std::string stream_item(std::string_view invocation_id, const json::value& item) {
  Writer w;
  w.head(2, 4, invocation_id);
  w.value(item);
  return w.framed();
}

std::string ping() {
  Writer w;
  w.array(1);
  w.integer(6);
  return w.framed();
}

std::string sequence_id(int type, std::int64_t id) {
  Writer w;
  w.array(2);
  w.integer(type);
  w.value(json::value(id));
  return w.framed();
}

std::string close_message(std::string_view error, bool allow_reconnect) {
  Writer w;
  w.array(3);
  w.integer(7);
  if (error.empty())
    w.nil();
  else
    w.str(error);
  w.boolean(allow_reconnect);
  return w.framed();
}

std::optional<ClientMessage> parse(std::string_view record, std::string& error) {
  // No length inside may exceed the record's own: each element takes a byte
  // at least, so this refuses a declared 2^32-element array before any
  // allocation. Nesting as deep as Boost.JSON allows for the JSON protocol.
  const std::size_t n = record.size();
  msgpack::unpack_limit limit(n, n, n, n, n, 32);
  msgpack::object_handle handle;
  std::size_t offset = 0;
  try {
    handle = msgpack::unpack(record.data(), record.size(), offset, nullptr, nullptr, limit);
  } catch (const msgpack::insufficient_bytes&) {
    error = "the message ends inside a MessagePack value";
    return std::nullopt;
  } catch (const std::exception& e) {
    error = std::string("not a MessagePack message (") + e.what() + ")";
    return std::nullopt;
  }
  if (offset != record.size()) {
    error = "bytes follow the message's MessagePack value";
    return std::nullopt;
  }
  const msgpack::object& o = handle.get();
  try {
    if (o.type != msgpack::type::ARRAY || o.via.array.size == 0)
      throw Invalid{"Reading array length for message failed: the message is not an array."};
    const auto& a = o.via.array;
    const auto& type = at(a, 0);
    if (type.type != msgpack::type::POSITIVE_INTEGER || type.via.u64 > 1000)
      throw Invalid{"Reading 'messageType' as Int32 failed."};
    ClientMessage m;
    m.type = static_cast<int>(type.via.u64);
    switch (static_cast<MessageType>(m.type)) {
      case MessageType::invocation:
      case MessageType::stream_invocation: {
        const bool plain = m.type == int(MessageType::invocation);
        need(a, 5, plain ? "Invocation" : "StreamInvocation");
        check_headers(at(a, 1));
        m.invocation_id = read_invocation_id(at(a, 2), plain);
        m.target = read_string(at(a, 3), "target");
        const auto& args = at(a, 4);
        if (args.type != msgpack::type::ARRAY)
          throw Invalid{"Reading array length for 'arguments' failed."};
        auto value = to_json(args);
        m.arguments = std::move(value.as_array());
        if (a.size > 5) {
          const auto& ids = at(a, 5);
          if (ids.type != msgpack::type::ARRAY)
            throw Invalid{"Reading array length for 'streamIds' failed."};
          for (std::uint32_t i = 0; i < ids.via.array.size; ++i)
            m.stream_ids.push_back(read_string(ids.via.array.ptr[i], "streamId"));
        }
        break;
      }
      case MessageType::stream_item:
        need(a, 4, "StreamItem");
        check_headers(at(a, 1));
        m.invocation_id = read_invocation_id(at(a, 2), false);
        m.result = to_json(at(a, 3));
        break;
      case MessageType::completion: {
        need(a, 4, "Completion");
        check_headers(at(a, 1));
        m.invocation_id = read_invocation_id(at(a, 2), false);
        const auto& kind = at(a, 3);
        if (kind.type != msgpack::type::POSITIVE_INTEGER || kind.via.u64 < 1 || kind.via.u64 > 3)
          throw Invalid{"Invalid invocation result kind."};
        if (kind.via.u64 != 2) {
          need(a, 5, "Completion");
          if (kind.via.u64 == 1)
            m.error = read_string(at(a, 4), "error");
          else
            m.result = to_json(at(a, 4));
        }
        break;
      }
      case MessageType::cancel_invocation:
        need(a, 3, "CancelInvocation");
        check_headers(at(a, 1));
        m.invocation_id = read_invocation_id(at(a, 2), false);
        break;
      case MessageType::close:
        need(a, 2, "Close");
        if (at(a, 1).type != msgpack::type::NIL) read_string(at(a, 1), "error");
        break;
      case MessageType::ack:
      case MessageType::sequence:
        need(a, 2, m.type == int(MessageType::ack) ? "Ack" : "Sequence");
        if (at(a, 1).type != msgpack::type::POSITIVE_INTEGER ||
            at(a, 1).via.u64 > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
          throw Invalid{"Reading 'sequenceId' as Int64 failed."};
        m.sequence_id = static_cast<std::int64_t>(at(a, 1).via.u64);
        break;
      default:  // ping, and types a newer protocol adds: nothing to read
        break;
    }
    return m;
  } catch (const Invalid& e) {
    error = e.what;
  } catch (const std::exception& e) {
    error = e.what();
  }
  return std::nullopt;
}

}  // namespace tether::realtime::msgpack_codec
