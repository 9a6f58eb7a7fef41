// Fuzz target: the mesh handshake's JSON texts (mesh/handshake.hpp) as an
// unauthenticated peer could send them: challenge, hello, welcome. Parsing
// never crashes; what parses survives a round trip through its builder.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tether/mesh/handshake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  using namespace tether::mesh;
  if (auto c = parse_challenge(text)) {
    auto again = parse_challenge(challenge_json(*c));
    if (!again || again->id != c->id || again->nonce != c->nonce || again->epoch != c->epoch)
      std::abort();
  }
  if (auto h = parse_hello(text)) {
    // What the hub does with a hello: compute the MAC it must carry.
    auto mac = hello_mac("a-fuzzing-key-of-16+", "nonce", *h);
    auto again = parse_hello(hello_json("a-fuzzing-key-of-16+", "nonce", *h));
    if (!again || again->mac != mac || again->id != h->id || again->epoch != h->epoch ||
        again->previous_members != h->previous_members)
      std::abort();
  }
  (void)parse_welcome(text);
  return 0;
}
