// JWT bearer tokens: what is accepted and every way a token is refused.
#include "tether/net/jwt.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <gtest/gtest.h>

namespace tether::net {
namespace {

namespace json = boost::json;
const std::string kSecret(40, 'k');
constexpr std::int64_t kNow = 1'800'000'000;

JwtValidator hs256(std::string aud = "app", std::string iss = "me") {
  JwtConfig c;
  c.hs256_secret = kSecret;
  c.audience = std::move(aud);
  c.issuer = std::move(iss);
  return JwtValidator(c);
}

json::object claims(std::int64_t exp = kNow + 60) {
  return {{"sub", "alice"}, {"aud", "app"}, {"iss", "me"}, {"exp", exp}};
}

TEST(Jwt, AValidHs256TokenGivesItsClaims) {
  auto v = hs256();
  auto r = v.check(sign_hs256(claims(), kSecret), kNow);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.claims.at("sub").as_string(), "alice");
  EXPECT_EQ(r.expires_at, kNow + 60);
}

TEST(Jwt, RefusedForEveryReason) {
  auto v = hs256();
  auto token = sign_hs256(claims(), kSecret);
  EXPECT_EQ(v.check(sign_hs256(claims(), std::string(40, 'x')), kNow).error, "bad signature");
  EXPECT_EQ(v.check(sign_hs256(claims(kNow - 3600), kSecret), kNow).error, "expired");
  auto no_exp = claims();
  no_exp.erase("exp");
  EXPECT_EQ(v.check(sign_hs256(no_exp, kSecret), kNow).error, "no exp claim");
  auto later = claims();
  later["nbf"] = kNow + 3600;
  EXPECT_EQ(v.check(sign_hs256(later, kSecret), kNow).error, "not valid yet (nbf)");
  auto other_aud = claims();
  other_aud["aud"] = "someone";
  EXPECT_EQ(v.check(sign_hs256(other_aud, kSecret), kNow).error, "wrong audience");
  auto in_list = claims();
  in_list["aud"] = json::array{"x", "app"};
  EXPECT_TRUE(v.check(sign_hs256(in_list, kSecret), kNow).ok);
  auto other_iss = claims();
  other_iss["iss"] = "them";
  EXPECT_EQ(v.check(sign_hs256(other_iss, kSecret), kNow).error, "wrong issuer");
  // alg none, with or without a signature; and a payload changed after signing.
  auto payload = token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1);
  auto none = base64url_encode(R"({"alg":"none"})") + "." + payload + ".";
  EXPECT_EQ(v.check(none, kNow).error, "alg none is not accepted");
  auto tampered = token.substr(0, token.find('.') + 1) +
                  base64url_encode(R"({"sub":"root","aud":"app","iss":"me","exp":1900000000})") +
                  token.substr(token.rfind('.'));
  EXPECT_EQ(v.check(tampered, kNow).error, "bad signature");
  // RS256 where only an HS256 secret is configured (alg confusion).
  auto rs = base64url_encode(R"({"alg":"RS256"})") + "." + payload + ".c2ln";
  EXPECT_EQ(v.check(rs, kNow).error, "alg RS256 is not accepted here");
  for (const char* bad : {"", "a.b", "a.b.c.d", "!!.??.**"})
    EXPECT_FALSE(v.check(bad, kNow).ok) << bad;
  // The leeway: 30 s past exp is still fine with the default 60 s.
  EXPECT_TRUE(v.check(sign_hs256(claims(kNow - 30), kSecret), kNow).ok);
}

TEST(Jwt, AShortSecretOrNoKeyIsAConfigurationError) {
  JwtConfig none;
  EXPECT_THROW(JwtValidator{none}, std::invalid_argument);
  JwtConfig short_secret;
  short_secret.hs256_secret = "too short";
  EXPECT_THROW(JwtValidator{short_secret}, std::invalid_argument);
  JwtConfig bad_pem;
  bad_pem.rs256_public_pem = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n";
  EXPECT_THROW(JwtValidator{bad_pem}, std::invalid_argument);
}

TEST(Jwt, Rs256WithAnRsaPublicKey) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  ASSERT_NE(key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  JwtConfig c;
  c.rs256_public_pem.assign(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  JwtValidator v(c);
  std::string signing = base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + "." +
                        base64url_encode(R"({"sub":"bob","exp":1800000060})");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(signing.data()),
                 signing.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(signing.data()), signing.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  auto r = v.check(signing + "." + base64url_encode(sig), kNow);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.claims.at("sub").as_string(), "bob");
  // An HS256 token signed with the public key as secret (alg confusion): refused.
  EXPECT_EQ(v.check(sign_hs256(claims(), c.rs256_public_pem), kNow).error,
            "alg HS256 is not accepted here");
  EXPECT_EQ(v.check(signing + "." + base64url_encode("forged"), kNow).error, "bad signature");
}

}  // namespace
}  // namespace tether::net
