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
#include <ctime>

#include "tether/net/base64.hpp"

namespace tether::realtime::msgpack_codec {

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_value(Packer& p, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: p.pack_nil(); break;
    case json::kind::bool_: v.get_bool() ? p.pack_true() : p.pack_false(); break;
    case json::kind::int64: p.pack_int64(v.get_int64()); break;
    case json::kind::uint64: p.pack_uint64(v.get_uint64()); break;
    case json::kind::double_: p.pack_double(v.get_double()); break;
    case json::kind::string: {
      const auto& s = v.get_string();
      p.pack_str(static_cast<std::uint32_t>(s.size()));
      p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
      break;
    }
    case json::kind::array: {
      const auto& a = v.get_array();
      p.pack_array(static_cast<std::uint32_t>(a.size()));
      for (const auto& e : a) pack_value(p, e);
      break;
    }
    case json::kind::object: {
      const auto& o = v.get_object();
      p.pack_map(static_cast<std::uint32_t>(o.size()));
      for (const auto& kv : o) {
        p.pack_str(static_cast<std::uint32_t>(kv.key().size()));
        p.pack_str_body(kv.key().data(), static_cast<std::uint32_t>(kv.key().size()));
        pack_value(p, kv.value());
      }
      break;
    }
  }
}

void pack_str(Packer& p, std::string_view s) {
  p.pack_str(static_cast<std::uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

// [type, {} (no headers), invocation id, ...]: the common head.
void pack_head(Packer& p, int type, std::uint32_t size, std::string_view invocation_id) {
  p.pack_array(size);
  p.pack_int(type);
  p.pack_map(0);
  if (invocation_id.empty())
    p.pack_nil();
  else
    pack_str(p, invocation_id);
}

std::string framed(const msgpack::sbuffer& buffer) {
  return binary_frame(std::string_view(buffer.data(), buffer.size()));
}

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

std::string invocation(std::string_view target, const json::array& arguments) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  pack_head(p, 1, 5, {});
  pack_str(p, target);
  p.pack_array(static_cast<std::uint32_t>(arguments.size()));
  for (const auto& a : arguments) pack_value(p, a);
  return framed(buffer);
}

std::string completion(std::string_view invocation_id, int kind, const json::value* result,
                       std::string_view error) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  pack_head(p, 3, kind == 2 ? 4 : 5, invocation_id);
  p.pack_int(kind);
  if (kind == 1)
    pack_str(p, error);
  else if (kind == 3)
    pack_value(p, *result);
  return framed(buffer);
}

std::string stream_item(std::string_view invocation_id, const json::value& item) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  pack_head(p, 2, 4, invocation_id);
  pack_value(p, item);
  return framed(buffer);
}

std::string ping() {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_array(1);
  p.pack_int(6);
  return framed(buffer);
}

std::string close_message(std::string_view error, bool allow_reconnect) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_array(3);
  p.pack_int(7);
  if (error.empty())
    p.pack_nil();
  else
    pack_str(p, error);
  allow_reconnect ? p.pack_true() : p.pack_false();
  return framed(buffer);
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
          m.has_stream_ids = !m.stream_ids.empty();
        }
        break;
      }
      case MessageType::stream_item:
        need(a, 4, "StreamItem");
        check_headers(at(a, 1));
        m.invocation_id = read_invocation_id(at(a, 2), false);
        m.arguments.push_back(to_json(at(a, 3)));
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
          if (kind.via.u64 == 1) read_string(at(a, 4), "error");
          m.arguments.push_back(to_json(at(a, 4)));
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
        if (at(a, 1).type != msgpack::type::POSITIVE_INTEGER)
          throw Invalid{"Reading 'sequenceId' as Int64 failed."};
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
