// Fuzz target: what a MessagePack SignalR client sends after its handshake,
// as the server reads it (realtime/hub_protocol.hpp): bytes split at VarInt
// length prefixes, every message parsed. Never crashes, never allocates by a
// declared length; a refusal says why; a parsed invocation re-encodes and
// parses back to the same target and arguments.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <boost/json.hpp>

#include "tether/realtime/hub_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tether::realtime;
  std::string buffer(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> records;
  std::string error;
  if (!take_binary_records(buffer, records, 32 * 1024, error)) {
    if (error.empty()) std::abort();
    return 0;
  }
  for (const auto& record : records) {
    error.clear();
    auto m = parse_client_message_msgpack(record, error);
    if (!m) {
      if (error.empty()) std::abort();  // a refusal always says why
      continue;
    }
    if (m->type != static_cast<int>(MessageType::invocation)) continue;
    auto again = invocation(m->target, m->arguments, Protocol::messagepack);
    std::vector<std::string> one;
    if (!take_binary_records(again, one, std::size_t(1) << 30, error) || one.size() != 1)
      std::abort();
    auto back = parse_client_message_msgpack(one[0], error);
    if (!back || back->target != m->target ||
        boost::json::serialize(back->arguments) != boost::json::serialize(m->arguments))
      std::abort();
  }
  return 0;
}
