#pragma once
// The SignalR hub protocols, versions 1 and 2 (dotnet/aspnetcore
// src/SignalR/docs/specs/HubProtocol.md): JSON and MessagePack, and the
// negotiate response (TransportProtocols.md). Pure functions: no I/O, no state.
//
// JSON: every message is a JSON object followed by the record separator 0x1E.
// MessagePack: every message is a MessagePack array preceded by its length as
// a VarInt (7 bits a byte, low bits first, at most 5 bytes). Both begin with
// the same JSON handshake: the client sends {"protocol":"json"|"messagepack",
// "version":1 or 2}, the server answers {} or {"error":"..."} (JSON, 0x1E).
//
// Hub methods see arguments as JSON values in both protocols: MessagePack's
// binary becomes a base64 string (as byte[] is in ASP.NET Core's JSON), its
// timestamp an ISO 8601 string (as JSON.stringify writes a Date).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

namespace tether::realtime {

namespace json = boost::json;

inline constexpr char kRecordSeparator = '\x1e';

enum class Protocol { json, messagepack };

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

// Moves every complete length-prefixed MessagePack message (without its
// prefix) out of `buffer` into `out`, leaving an incomplete tail. False with
// `error` set when a prefix is malformed (a 5th byte above 7, or more than 5
// bytes) or announces more than `max_bytes`: the connection must end.
bool take_binary_records(std::string& buffer, std::vector<std::string>& out, std::size_t max_bytes,
                         std::string& error);
// `payload` preceded by its VarInt length.
std::string binary_frame(std::string_view payload);

// The outcome of a client's handshake record.
struct HandshakeResult {
  bool ok = false;
  std::string error;  // why not, in the words the client shows (ASP.NET Core's)
  Protocol protocol = Protocol::json;
  int version = 1;  // 2: the client can do stateful reconnect (Ack, Sequence)
};
// `text_only`: the transport carries text only (Server-Sent Events), so a
// binary protocol is refused as ASP.NET Core refuses it.
HandshakeResult check_handshake(std::string_view record, bool text_only = false);

// Framed handshake responses.
std::string handshake_ok();                          // "{}\x1e"
std::string handshake_error(std::string_view error);  // {"error":..}

// One message a client sent, as far as the server needs it.
struct ClientMessage {
  int type = 0;
  std::string invocation_id;  // empty: none (a non-blocking invocation)
  std::string target;
  json::array arguments;
  std::vector<std::string> stream_ids;  // the client-to-server streams an invocation opens
  json::value result;                   // StreamItem: the item; Completion: its result (or null)
  std::optional<std::string> error;     // Completion: the error it carries
  std::int64_t sequence_id = 0;  // Ack: the last message received; Sequence: the next one sent
};
// Parses one JSON record. nullopt with `error` set when it is not JSON, not
// an object, has no integer "type" (in the int range), or an invocation lacks
// target/arguments.
std::optional<ClientMessage> parse_client_message(std::string_view record, std::string& error);
// Parses one MessagePack message (its length prefix removed). nullopt with
// `error` set when it is not one whole MessagePack value, not an array with
// a type first, an element has the wrong type, the array is too short, or a
// value cannot be a JSON value (a map key that is not a string, an unknown
// extension). Lengths are bounded by the record itself: a declared array of
// 2^32 elements in a 10-byte record is refused before anything is allocated.
std::optional<ClientMessage> parse_client_message_msgpack(std::string_view record,
                                                          std::string& error);
std::optional<ClientMessage> parse_client_message(Protocol p, std::string_view record,
                                                  std::string& error);

// Framed server messages, in `p` (JSON by default). An invocation with an
// `invocation_id` asks the client for a result (a client result).
std::string invocation(std::string_view target, const json::array& arguments,
                       Protocol p = Protocol::json);
std::string invocation(std::string_view target, const json::array& arguments,
                       std::string_view invocation_id, Protocol p);
std::string completion_result(std::string_view invocation_id, const json::value& result,
                              Protocol p = Protocol::json);
std::string completion_void(std::string_view invocation_id, Protocol p = Protocol::json);
std::string completion_error(std::string_view invocation_id, std::string_view error,
                             Protocol p = Protocol::json);
std::string stream_item(std::string_view invocation_id, const json::value& item,
                        Protocol p = Protocol::json);
std::string ping(Protocol p = Protocol::json);
// Stateful reconnect (protocol version 2): an Ack of every message up to
// `sequence_id`, and a Sequence saying the messages that follow start at it.
std::string ack_message(std::int64_t sequence_id, Protocol p = Protocol::json);
std::string sequence_message(std::int64_t sequence_id, Protocol p = Protocol::json);
// Messages that count in stateful reconnect's sequence: invocations, stream
// items, completions, stream invocations and cancels (not pings, closes,
// acks or sequences), as ASP.NET Core's MessageBuffer counts them.
bool is_sequenced(int type);
// A Close message; `error` empty for a graceful close.
std::string close_message(std::string_view error, bool allow_reconnect = false,
                          Protocol p = Protocol::json);

// Transports a negotiate response may offer, in the client's order of preference.
enum Transport : unsigned {
  websockets = 1,
  server_sent_events = 2,
  long_polling = 4,
  all_transports = 7,
};

// The negotiate response body for `version` (0 or 1; higher asks get 1).
// Version 0 has no connectionToken: the client then uses the connection id.
// `stateful_reconnect`: answers the client's useStatefulReconnect=true.
std::string negotiate_response(int version, std::string_view connection_id,
                               std::string_view connection_token, unsigned transports,
                               bool stateful_reconnect = false);

}  // namespace tether::realtime
