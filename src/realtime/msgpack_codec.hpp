#pragma once
// The MessagePack hub protocol's encoder and decoder
// (hub_protocol_msgpack.cpp); reached through hub_protocol.hpp's functions
// with Protocol::messagepack. Internal to src/realtime.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tether/realtime/hub_protocol.hpp"

namespace tether::realtime::msgpack_codec {

// Each returns one length-prefixed message.
// `invocation_id` empty: nil (no Completion expected).
std::string invocation(std::string_view target, const json::array& arguments,
                       std::string_view invocation_id);
// `kind`: 1 error (`error`), 2 void, 3 a result (`*result`).
std::string completion(std::string_view invocation_id, int kind, const json::value* result,
                       std::string_view error);
std::string stream_item(std::string_view invocation_id, const json::value& item);
std::string ping();
std::string close_message(std::string_view error, bool allow_reconnect);
// An Ack (8) or a Sequence (9): [type, sequenceId].
std::string sequence_id(int type, std::int64_t id);

std::optional<ClientMessage> parse(std::string_view record, std::string& error);

}  // namespace tether::realtime::msgpack_codec
