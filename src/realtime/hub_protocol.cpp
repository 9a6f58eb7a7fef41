#include "tether/realtime/hub_protocol.hpp"

#include <limits>

#include <boost/json.hpp>

namespace tether::realtime {

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

HandshakeResult check_handshake(std::string_view record) {
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
  if (name != "json") return {false, "The protocol '" + name + "' is not supported."};
  if (version->as_int64() != 1)
    return {false, "The server does not support version " + std::to_string(version->as_int64()) +
                       " of the 'json' protocol."};
  return {true, {}};
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
    if (auto* s = o.if_contains("streamIds"); s && s->is_array() && !s->as_array().empty())
      m.has_stream_ids = true;
  }
  return m;
}

std::string invocation(std::string_view target, const json::array& arguments) {
  return frame(json::object{{"type", 1}, {"target", target}, {"arguments", arguments}});
}

std::string completion_result(std::string_view invocation_id, const json::value& result) {
  return frame(json::object{{"type", 3}, {"invocationId", invocation_id}, {"result", result}});
}

std::string completion_void(std::string_view invocation_id) {
  return frame(json::object{{"type", 3}, {"invocationId", invocation_id}});
}

std::string completion_error(std::string_view invocation_id, std::string_view error) {
  return frame(json::object{{"type", 3}, {"invocationId", invocation_id}, {"error", error}});
}

std::string stream_item(std::string_view invocation_id, const json::value& item) {
  return frame(json::object{{"type", 2}, {"invocationId", invocation_id}, {"item", item}});
}

std::string ping() { return frame(json::object{{"type", 6}}); }

std::string close_message(std::string_view error, bool allow_reconnect) {
  json::object o{{"type", 7}};
  if (!error.empty()) o["error"] = error;
  if (allow_reconnect) o["allowReconnect"] = true;
  return frame(o);
}

std::string negotiate_response(int version, std::string_view connection_id,
                               std::string_view connection_token, unsigned transports) {
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
  return json::serialize(o);
}

}  // namespace tether::realtime
