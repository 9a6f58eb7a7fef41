#include "tether/mesh/auth.hpp"

#include <openssl/crypto.h>

#include <stdexcept>

#include "tether/net/hex.hpp"
#include "tether/net/random.hpp"
#include "tether/net/sha256.hpp"

namespace tether::mesh {

using net::to_hex;

std::string make_nonce() {
  unsigned char buf[16];
  net::random_bytes(buf, sizeof buf);
  return to_hex(buf, sizeof buf);
}

std::string hmac_hex(std::string_view key, std::string_view text) {
  const std::string mac = net::hmac_sha256(key, text);
  return to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

bool mac_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tether::mesh
