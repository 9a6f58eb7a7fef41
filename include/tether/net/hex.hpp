#pragma once
// The one hex encoder: bytes as lowercase hex, two characters per byte.
#include <cstddef>
#include <string>
#include <string_view>

namespace tether::net {

std::string to_hex(const void* data, std::size_t n);
inline std::string to_hex(std::string_view bytes) { return to_hex(bytes.data(), bytes.size()); }

// Appends the two hex digits of `byte` to `out` (lowercase).
void append_hex(std::string& out, unsigned char byte);

}  // namespace tether::net
