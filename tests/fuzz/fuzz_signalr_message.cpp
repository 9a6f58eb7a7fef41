// Fuzz target: what a SignalR client sends, as the server reads it
// (realtime/hub_protocol.hpp): bytes split into records at 0x1E, the first
// checked as a handshake, every record parsed as a hub message. Never
// crashes; a parsed invocation's target and arguments re-serialize.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tether/realtime/hub_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tether::realtime;
  std::string buffer(reinterpret_cast<const char*>(data), size);
  auto records = take_records(buffer);
  bool first = true;
  for (const auto& record : records) {
    if (record.find(kRecordSeparator) != std::string::npos) std::abort();
    if (first) (void)check_handshake(record);
    first = false;
    std::string error;
    if (auto m = parse_client_message(record, error)) {
      if (m->type == static_cast<int>(MessageType::invocation))
        (void)invocation(m->target, m->arguments);
    } else if (error.empty()) {
      std::abort();  // a refusal always says why
    }
  }
  if (buffer.find(kRecordSeparator) != std::string::npos) std::abort();  // only a tail is left
  return 0;
}
