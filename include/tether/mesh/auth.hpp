#pragma once
// Mesh handshake authentication: nonces and HMAC-SHA256 over a shared key
// (docs/mesh.md, "Wire format").
#include <string>
#include <string_view>

namespace tether::mesh {

// 128 bits from the OS's cryptographic generator, as 32 hex characters.
std::string make_nonce();

// Lowercase hex HMAC-SHA256 of `text` under `key`.
std::string hmac_hex(std::string_view key, std::string_view text);

// Constant-time comparison of two MACs.
bool mac_equal(std::string_view a, std::string_view b);

}  // namespace tether::mesh
