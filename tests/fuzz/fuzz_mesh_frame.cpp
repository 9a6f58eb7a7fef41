// Fuzz target: one WebSocket message from a mesh peer, read frame by frame
// (mesh/frame.hpp). Never crashes, stops with an error on malformed input,
// and every frame it accepts encodes back to exactly the bytes it came from.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tether/mesh/frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view message(reinterpret_cast<const char*>(data), size);
  tether::mesh::FrameReader reader(message);
  std::string reencoded;
  std::size_t frames = 0;
  while (auto f = reader.next()) {
    ++frames;
    std::size_t before = reencoded.size();
    tether::mesh::append_frame(reencoded, *f);
    if (reencoded.size() - before != tether::mesh::encoded_size(*f)) std::abort();
  }
  // Without an error, the frames read are the whole message, byte for byte.
  if (reader.error().empty() && reencoded != message) std::abort();
  (void)frames;
  return 0;
}
