#pragma once
// JSON Web Tokens (RFC 7519) as bearer tokens: HS256 (a shared secret) and
// RS256 (an RSA public key, PEM), checked with OpenSSL. Signature, `alg`
// (never "none", never one the key was not given for), `exp` (required),
// `nbf`, `iss` and `aud` when configured, with a small leeway for clocks. A
// token is a secret: nothing here logs it, and errors never quote it.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace tether::net {

struct JwtConfig {
  std::string hs256_secret;         // HS256 when set (at least 32 bytes, RFC 7518 §3.2)
  std::string rs256_public_pem;     // RS256 when set: "-----BEGIN PUBLIC KEY-----..."
  std::string issuer;               // required `iss` when set
  std::string audience;             // required in `aud` (a string or an array) when set
  std::chrono::seconds leeway{60};  // clock skew allowed on exp and nbf
};

struct JwtCheck {
  bool ok = false;
  std::string error;            // why not (never the token)
  boost::json::object claims;   // the payload, when ok
  std::int64_t expires_at = 0;  // `exp`, Unix seconds
};

class JwtValidator {
 public:
  // Throws std::invalid_argument for a config with no key, a short secret or
  // a PEM that is not an RSA public key.
  explicit JwtValidator(JwtConfig config);
  ~JwtValidator();
  JwtValidator(const JwtValidator&) = delete;
  JwtValidator& operator=(const JwtValidator&) = delete;

  // Checks `token` at `now` (Unix seconds).
  JwtCheck check(std::string_view token, std::int64_t now) const;
  JwtCheck check(std::string_view token) const;

 private:
  JwtConfig config_;
  struct Key;
  std::unique_ptr<Key> rsa_;
};

// For tests and tools: an HS256 token of `claims` signed with `secret`.
std::string sign_hs256(const boost::json::object& claims, std::string_view secret);

// base64url without padding (RFC 4648 §5), as JWTs use.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace tether::net
