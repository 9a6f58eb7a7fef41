#include "tether/net/hex.hpp"

namespace tether::net {

namespace {
constexpr char kHex[] = "0123456789abcdef";
}

void append_hex(std::string& out, unsigned char byte) {
  out.push_back(kHex[byte >> 4]);
  out.push_back(kHex[byte & 0xf]);
}

std::string to_hex(const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) append_hex(out, p[i]);
  return out;
}

}  // namespace tether::net
