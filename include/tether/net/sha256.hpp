#pragma once
#include <string>
#include <string_view>

namespace tether::net {

// Lowercase hex SHA-256 of `data` (OpenSSL EVP).
std::string sha256_hex(std::string_view data);

// HMAC-SHA256 of `data` under `key`: the 32 raw bytes (the mesh's hello MACs
// as hex, Azure's SharedKey signatures as base64, JWT HS256 as base64url).
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace tether::net
