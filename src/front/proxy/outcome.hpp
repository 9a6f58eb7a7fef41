#pragma once
// Private to src/front/proxy: what a phase of the proxy path reports to the
// next one, as a value (no out-parameters). A phase either went on (ok), or
// ended the exchange in one of three ways:
//  - failed: a ProxyFailure whose status and body come from the one mapping
//    (tether/front/proxy_error.hpp); the client gets that error response;
//  - closed: the connection just ends, no response (the client left, or the
//    response had started so only a close can report the failure);
//  - retry: the instance failed before anything of the request body was
//    consumed and before it answered: the upstream phase may try again.
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/system/error_code.hpp>

#include "tether/front/proxy_error.hpp"

namespace tether::front {

struct Instance;

namespace proxy {

struct Outcome {
  enum class Kind : std::uint8_t { ok, failed, closed, retry };

  Kind kind = Kind::ok;
  ProxyFailure failure = ProxyFailure::upstream_broken;  // meaningful when failed
  boost::system::error_code ec;                          // the I/O error behind it, if any

  static Outcome ok() { return {}; }
  static Outcome fail(ProxyFailure f, boost::system::error_code e = {}) {
    return {Kind::failed, f, e};
  }
  static Outcome close(boost::system::error_code e = {}) {
    return {Kind::closed, ProxyFailure::upstream_broken, e};
  }
  static Outcome retry(boost::system::error_code e) {
    return {Kind::retry, ProxyFailure::upstream_broken, e};
  }

  bool is_ok() const { return kind == Kind::ok; }
  bool failed() const { return kind == Kind::failed; }
  // The status the client is sent, from the one mapping; 0 when none.
  int status() const { return failed() ? status_for(failure) : 0; }
};

// What becomes of the client connection after one exchange.
enum class After : std::uint8_t { keep_alive, close, tunnel };

}  // namespace proxy
}  // namespace tether::front
