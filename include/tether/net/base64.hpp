#pragma once
// Standard base64 (RFC 4648 section 4, with padding), through OpenSSL.
#include <optional>
#include <string>
#include <string_view>

namespace tether::net {

std::string base64_encode(std::string_view bytes);

// The bytes of `text`, or nullopt when it is not base64 (wrong length,
// characters outside the alphabet, misplaced padding).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace tether::net
