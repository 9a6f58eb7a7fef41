#include "tether/mesh/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "tether/net/hex.hpp"
#include "tether/net/random.hpp"

namespace tether::mesh {

using net::to_hex;

std::string make_nonce() {
  unsigned char buf[16];
  net::random_bytes(buf, sizeof buf);
  return to_hex(buf, sizeof buf);
}

std::string hmac_hex(std::string_view key, std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), out, &len);
  return to_hex(out, len);
}

bool mac_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tether::mesh
