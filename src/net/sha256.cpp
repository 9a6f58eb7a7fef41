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

}  // namespace tether::net
