#include "tether/realtime/hub_protocol.hpp"

#include <limits>

#include <boost/json.hpp>

#include "msgpack_codec.hpp"

namespace tether::realtime {

bool take_binary_records(std::string& buffer, std::vector<std::string>& out, std::size_t max_bytes,
                         std::string& error) {
  std::size_t start = 0;
  for (;;) {
    // The length: up to 5 bytes, 7 bits each, low bits first; the 5th byte
    // holds the top 3 bits of a 2^31 - 1 limit (HubProtocol.md).
    std::uint64_t length = 0;
    std::size_t i = 0;
    bool complete = false;
    for (; i < 5 && start + i < buffer.size(); ++i) {
      auto byte = static_cast<unsigned char>(buffer[start + i]);
      if (i == 4 && byte > 0x07) {
        error = "Messages over 2GB in size are not supported.";
        return false;
      }
      length |= std::uint64_t(byte & 0x7f) << (7 * i);
      if (!(byte & 0x80)) {
        complete = true;
        ++i;
        break;
      }
    }
    if (!complete) break;  // the prefix is not all here yet
    if (length > max_bytes) {
      error = "The maximum message size of " + std::to_string(max_bytes) + "B was exceeded.";
      return false;
    }
    if (buffer.size() - start - i < length) break;
    out.emplace_back(buffer, start + i, static_cast<std::size_t>(length));
    start += i + static_cast<std::size_t>(length);
  }
  buffer.erase(0, start);
  return true;
}

std::string binary_frame(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 5);
  auto length = payload.size();
  do {
    unsigned char byte = length & 0x7f;
    length >>= 7;
    if (length) byte |= 0x80;
    out += static_cast<char>(byte);
  } while (length);
  out += payload;
  return out;
}

std::vector<std::string> take_records(std::string& buffer) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto end = buffer.find(kRecordSeparator, start);
    if (end == std::string::npos) break;
    out.emplace_back(buffer, start, end - start);
    start = end + 1;
  }
  buffer.erase(0, start);
  return out;
}

std::string frame(const json::value& value) {
  std::string out = json::serialize(value);
  out += kRecordSeparator;
  return out;
}

HandshakeResult check_handshake(std::string_view record, bool text_only) {
  boost::system::error_code ec;
  auto v = json::parse(record, ec);
  if (ec || !v.is_object()) return {false, "Handshake request is not a JSON object."};
  auto& o = v.as_object();
  auto* protocol = o.if_contains("protocol");
  auto* version = o.if_contains("version");
  if (!protocol || !protocol->is_string())
    return {false, "Missing required property 'protocol'."};
  if (!version || !version->is_int64())
    return {false, "Missing required property 'version'."};
  std::string name(protocol->as_string());
  Protocol p;
  if (name == "json")
    p = Protocol::json;
  else if (name == "messagepack")
    p = Protocol::messagepack;
  else
    return {false, "The protocol '" + name + "' is not supported.", Protocol::json};
  // Version 2 adds Ack and Sequence (stateful reconnect); a client asks
  // for it only when negotiate offered stateful reconnect.
  if (version->as_int64() != 1 && version->as_int64() != 2)
    return {false,
            "The server does not support version " + std::to_string(version->as_int64()) +
                " of the '" + name + "' protocol.",
            Protocol::json};
  if (text_only && p == Protocol::messagepack)
    return {false,
            "Cannot use the 'messagepack' protocol on the current transport. The "
            "transport does not support 'Binary' transfer format.",
            Protocol::json};
  return {true, {}, p, static_cast<int>(version->as_int64())};
}

std::string handshake_ok() { return frame(json::object{}); }

std::string handshake_error(std::string_view error) {
  return frame(json::object{{"error", error}});
}

std::optional<ClientMessage> parse_client_message(std::string_view record, std::string& error) {
  boost::system::error_code ec;
  auto v = json::parse(record, ec);
  if (ec || !v.is_object()) {
    error = "message is not a JSON object";
    return std::nullopt;
  }
  auto& o = v.as_object();
  auto* type = o.if_contains("type");
  // Outside the int range it is no type either: truncated, 2^32 + 1 would
  // pass for an invocation.
  if (!type || !type->is_int64() || type->as_int64() < std::numeric_limits<int>::min() ||
      type->as_int64() > std::numeric_limits<int>::max()) {
    error = "Missing required property 'type'.";
    return std::nullopt;
  }
  ClientMessage m;
  m.type = static_cast<int>(type->as_int64());
  if (auto* id = o.if_contains("invocationId")) {
    if (!id->is_string()) {
      error = "Expected 'invocationId' to be of type String.";
      return std::nullopt;
    }
    m.invocation_id = std::string(id->as_string());
  }
  if (m.type == int(MessageType::invocation) || m.type == int(MessageType::stream_invocation)) {
    auto* target = o.if_contains("target");
    if (!target || !target->is_string()) {
      error = "Missing required property 'target'.";
      return std::nullopt;
    }
    m.target = std::string(target->as_string());
    auto* args = o.if_contains("arguments");
    if (!args || !args->is_array()) {
      error = "Missing required property 'arguments'.";
      return std::nullopt;
    }
    m.arguments = std::move(args->as_array());
    if (auto* s = o.if_contains("streamIds"); s && s->is_array()) {
      for (const auto& id : s->as_array()) {
        if (!id.is_string()) {
          error = "Expected 'streamIds' to be an array of strings.";
          return std::nullopt;
        }
        m.stream_ids.emplace_back(id.as_string());
      }
    }
  } else if (m.type == int(MessageType::stream_item)) {
    if (auto* item = o.if_contains("item")) m.result = std::move(*item);
  } else if (m.type == int(MessageType::completion)) {
    if (auto* e = o.if_contains("error")) {
      if (!e->is_string()) {
        error = "Expected 'error' to be of type String.";
        return std::nullopt;
      }
      m.error = std::string(e->as_string());
    } else if (auto* r = o.if_contains("result")) {
      m.result = std::move(*r);
    }
  } else if (m.type == int(MessageType::ack) || m.type == int(MessageType::sequence)) {
    auto* id = o.if_contains("sequenceId");
    if (!id || !id->is_int64() || id->as_int64() < 0) {
      error = "Missing required property 'sequenceId'.";
      return std::nullopt;
    }
    m.sequence_id = id->as_int64();
  }
  return m;
}

std::optional<ClientMessage> parse_client_message_msgpack(std::string_view record,
                                                          std::string& error) {
  return msgpack_codec::parse(record, error);
}

std::optional<ClientMessage> parse_client_message(Protocol p, std::string_view record,
                                                  std::string& error) {
  return p == Protocol::messagepack ? msgpack_codec::parse(record, error)
                                    : parse_client_message(record, error);
}

std::string invocation(std::string_view target, const json::array& arguments, Protocol p) {
  return invocation(target, arguments, {}, p);
}

std::string invocation(std::string_view target, const json::array& arguments,
                       std::string_view invocation_id, Protocol p) {
  if (p == Protocol::messagepack)
    return msgpack_codec::invocation(target, arguments, invocation_id);
  json::object o{{"type", 1}, {"target", target}, {"arguments", arguments}};
  if (!invocation_id.empty()) o["invocationId"] = invocation_id;
  return frame(o);
}

std::string completion_result(std::string_view invocation_id, const json::value& result,
                              Protocol p) {
  if (p == Protocol::messagepack) return msgpack_codec::completion(invocation_id, 3, &result, {});
  return frame(json::object{{"type", 3}, {"invocationId", invocation_id}, {"result", result}});
}

std::string completion_void(std::string_view invocation_id, Protocol p) {
  if (p == Protocol::messagepack) return msgpack_codec::completion(invocation_id, 2, nullptr, {});
  return frame(json::object{{"type", 3}, {"invocationId", invocation_id}});
}

std::string completion_error(std::string_view invocation_id, std::string_view error, Protocol p) {
  if (p == Protocol::messagepack)
    return msgpack_codec::completion(invocation_id, 1, nullptr, error);
  return frame(json::object{{"type", 3}, {"invocationId", invocation_id}, {"error", error}});
}

std::string stream_item(std::string_view invocation_id, const json::value& item, Protocol p) {
  if (p == Protocol::messagepack) return msgpack_codec::stream_item(invocation_id, item);
  return frame(json::object{{"type", 2}, {"invocationId", invocation_id}, {"item", item}});
}

std::string ping(Protocol p) {
  if (p == Protocol::messagepack) return msgpack_codec::ping();
  return frame(json::object{{"type", 6}});
}

std::string ack_message(std::int64_t sequence_id, Protocol p) {
  if (p == Protocol::messagepack) return msgpack_codec::sequence_id(8, sequence_id);
  return frame(json::object{{"type", 8}, {"sequenceId", sequence_id}});
}

std::string sequence_message(std::int64_t sequence_id, Protocol p) {
  if (p == Protocol::messagepack) return msgpack_codec::sequence_id(9, sequence_id);
  return frame(json::object{{"type", 9}, {"sequenceId", sequence_id}});
}

bool is_sequenced(int type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::invocation:
    case MessageType::stream_item:
    case MessageType::completion:
    case MessageType::stream_invocation:
    case MessageType::cancel_invocation: return true;
    default: return false;
  }
}

std::string close_message(std::string_view error, bool allow_reconnect, Protocol p) {
  if (p == Protocol::messagepack) return msgpack_codec::close_message(error, allow_reconnect);
  json::object o{{"type", 7}};
  if (!error.empty()) o["error"] = error;
  if (allow_reconnect) o["allowReconnect"] = true;
  return frame(o);
}

std::string negotiate_response(int version, std::string_view connection_id,
                               std::string_view connection_token, unsigned transports,
                               bool stateful_reconnect) {
  json::array available;
  if (transports & websockets)
    available.push_back(json::object{{"transport", "WebSockets"},
                                     {"transferFormats", json::array{"Text", "Binary"}}});
  if (transports & server_sent_events)
    available.push_back(json::object{{"transport", "ServerSentEvents"},
                                     {"transferFormats", json::array{"Text"}}});
  if (transports & long_polling)
    available.push_back(json::object{{"transport", "LongPolling"},
                                     {"transferFormats", json::array{"Text", "Binary"}}});
  json::object o;
  o["negotiateVersion"] = version >= 1 ? 1 : 0;
  o["connectionId"] = connection_id;
  if (version >= 1) o["connectionToken"] = connection_token;
  o["availableTransports"] = std::move(available);
  if (stateful_reconnect) o["useStatefulReconnect"] = true;
  return json::serialize(o);
}

}  // namespace tether::realtime
