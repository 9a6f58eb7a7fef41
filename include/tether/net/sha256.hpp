#pragma once
#include <string>
#include <string_view>

namespace tether::net {

// Lowercase hex SHA-256 of `data` (OpenSSL EVP).
std::string sha256_hex(std::string_view data);

}  // namespace tether::net
