#include "tether/net/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tether/net/base64.hpp"
#include "tether/net/sha256.hpp"

namespace tether::net {

namespace json = boost::json;

struct JwtValidator::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

std::string base64url_encode(std::string_view bytes) {
  std::string s = base64_encode(bytes);
  for (auto& c : s) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string s(text);
  for (auto& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/' || c == '=')
      return std::nullopt;  // not the url alphabet
  }
  while (s.size() % 4) s.push_back('=');
  return base64_decode(s);
}

namespace {

bool rs256_verify(EVP_PKEY* key, std::string_view data, std::string_view sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

JwtCheck fail(std::string why) {
  JwtCheck c;
  c.error = std::move(why);
  return c;
}

std::optional<std::int64_t> number_claim(const json::object& o, const char* key) {
  auto it = o.if_contains(key);
  if (!it) return std::nullopt;
  if (it->is_int64()) return it->as_int64();
  if (it->is_uint64()) return static_cast<std::int64_t>(it->as_uint64());
  if (it->is_double()) return static_cast<std::int64_t>(it->as_double());
  return std::nullopt;
}

}  // namespace

JwtValidator::JwtValidator(JwtConfig config) : config_(std::move(config)) {
  if (config_.hs256_secret.empty() && config_.rs256_public_pem.empty())
    throw std::invalid_argument("a JWT validator needs an HS256 secret or an RS256 public key");
  if (!config_.hs256_secret.empty() && config_.hs256_secret.size() < 32)
    throw std::invalid_argument("the HS256 secret must be at least 32 bytes (RFC 7518)");
  if (!config_.rs256_public_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(config_.rs256_public_pem.data(),
                               static_cast<int>(config_.rs256_public_pem.size()));
    EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
      EVP_PKEY_free(key);
      throw std::invalid_argument("the RS256 key is not a PEM RSA public key");
    }
    rsa_ = std::make_unique<Key>();
    rsa_->pkey = key;
  }
}

JwtValidator::~JwtValidator() = default;

JwtCheck JwtValidator::check(std::string_view token) const {
  return check(token, std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count());
}

JwtCheck JwtValidator::check(std::string_view token, std::int64_t now) const {
  if (token.size() > 16 * 1024) return fail("the token is over 16 KiB");
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return fail("not a JWT (three dot-separated parts)");
  auto header_text = base64url_decode(token.substr(0, dot1));
  auto payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = base64url_decode(token.substr(dot2 + 1));
  if (!header_text || !payload_text || !sig) return fail("a part is not base64url");
  boost::system::error_code ec;
  auto header = json::parse(*header_text, ec);
  if (ec || !header.is_object()) return fail("the header is not a JSON object");
  auto alg = header.as_object().if_contains("alg");
  if (!alg || !alg->is_string()) return fail("the header names no alg");
  const std::string_view signed_part = token.substr(0, dot2);
  if (alg->as_string() == "HS256") {
    if (config_.hs256_secret.empty()) return fail("alg HS256 is not accepted here");
    const std::string mac = hmac_sha256(config_.hs256_secret, signed_part);
    if (mac.size() != sig->size() || CRYPTO_memcmp(mac.data(), sig->data(), mac.size()) != 0)
      return fail("bad signature");
  } else if (alg->as_string() == "RS256") {
    if (!rsa_) return fail("alg RS256 is not accepted here");
    if (!rs256_verify(rsa_->pkey, signed_part, *sig)) return fail("bad signature");
  } else {
    return fail("alg " + std::string(std::string_view(alg->as_string()).substr(0, 16)) +
                " is not accepted");
  }
  auto payload = json::parse(*payload_text, ec);
  if (ec || !payload.is_object()) return fail("the payload is not a JSON object");
  auto& claims = payload.as_object();
  const auto leeway = config_.leeway.count();
  auto exp = number_claim(claims, "exp");
  if (!exp) return fail("no exp claim");
  if (now > *exp + leeway) return fail("expired");
  if (auto nbf = number_claim(claims, "nbf"); nbf && now + leeway < *nbf)
    return fail("not valid yet (nbf)");
  if (!config_.issuer.empty()) {
    auto iss = claims.if_contains("iss");
    if (!iss || !iss->is_string() || iss->as_string() != config_.issuer)
      return fail("wrong issuer");
  }
  if (!config_.audience.empty()) {
    auto aud = claims.if_contains("aud");
    bool found = false;
    if (aud && aud->is_string()) found = aud->as_string() == config_.audience;
    if (aud && aud->is_array())
      for (const auto& a : aud->as_array())
        if (a.is_string() && a.as_string() == config_.audience) found = true;
    if (!found) return fail("wrong audience");
  }
  JwtCheck ok;
  ok.ok = true;
  ok.expires_at = *exp;
  ok.claims = std::move(claims);
  return ok;
}

std::string sign_hs256(const json::object& claims, std::string_view secret) {
  std::string head = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  std::string body = base64url_encode(json::serialize(claims));
  std::string signing = head + "." + body;
  return signing + "." + base64url_encode(hmac_sha256(secret, signing));
}

}  // namespace tether::net
