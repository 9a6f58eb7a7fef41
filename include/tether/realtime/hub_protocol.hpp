#pragma once
// The SignalR JSON hub protocol, version 1 (dotnet/aspnetcore
// src/SignalR/docs/specs/HubProtocol.md), and the negotiate response
// (TransportProtocols.md). Pure functions: no I/O, no state.
//
// Every message is a JSON object followed by the record separator 0x1E. The
// first record a client sends is the handshake {"protocol":"json","version":1};
// the server answers {} or {"error":"..."}.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

namespace tether::realtime {

namespace json = boost::json;

inline constexpr char kRecordSeparator = '\x1e';

enum class MessageType : int {
  invocation = 1,
  stream_item = 2,
  completion = 3,
  stream_invocation = 4,
  cancel_invocation = 5,
  ping = 6,
  close = 7,
  ack = 8,
  sequence = 9,
};

// Moves every complete record (without its separator) out of `buffer`,
// leaving an incomplete tail there.
std::vector<std::string> take_records(std::string& buffer);

// `value` serialized, followed by the record separator.
std::string frame(const json::value& value);

// The outcome of a client's handshake record.
struct HandshakeResult {
  bool ok = false;
  std::string error;  // why not, in the words the client shows (ASP.NET Core's)
};
HandshakeResult check_handshake(std::string_view record);

// Framed handshake responses.
std::string handshake_ok();                          // "{}\x1e"
std::string handshake_error(std::string_view error);  // {"error":..}

// One message a client sent, as far as the server needs it.
struct ClientMessage {
  int type = 0;
  std::string invocation_id;  // empty: none (a non-blocking invocation)
  std::string target;
  json::array arguments;
  bool has_stream_ids = false;  // client-to-server streams (not supported)
};
// Parses one record. nullopt with `error` set when it is not JSON, not an
// object, has no integer "type" (in the int range), or an invocation lacks
// target/arguments.
std::optional<ClientMessage> parse_client_message(std::string_view record, std::string& error);

// Framed server messages.
std::string invocation(std::string_view target, const json::array& arguments);
std::string completion_result(std::string_view invocation_id, const json::value& result);
std::string completion_void(std::string_view invocation_id);
std::string completion_error(std::string_view invocation_id, std::string_view error);
std::string stream_item(std::string_view invocation_id, const json::value& item);
std::string ping();
// A Close message; `error` empty for a graceful close.
std::string close_message(std::string_view error, bool allow_reconnect = false);

// Transports a negotiate response may offer, in the client's order of preference.
enum Transport : unsigned {
  websockets = 1,
  server_sent_events = 2,
  long_polling = 4,
  all_transports = 7,
};

// The negotiate response body for `version` (0 or 1; higher asks get 1).
// Version 0 has no connectionToken: the client then uses the connection id.
std::string negotiate_response(int version, std::string_view connection_id,
                               std::string_view connection_token, unsigned transports);

}  // namespace tether::realtime
