#include "tether/net/sha256.hpp"

#include <openssl/evp.h>

#include "tether/net/hex.hpp"

namespace tether::net {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return to_hex(digest, len);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  // EVP_Q_mac cannot fail for HMAC with SHA-256 short of memory exhaustion.
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out,
            &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace tether::net
