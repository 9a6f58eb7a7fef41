#pragma once
// The one random source: every key, token, nonce and id comes from the OS's
// CSPRNG (getrandom(2)), read ahead in small per-thread blocks so the front
// door's per-request GUID costs no system call. Fork-safe: a child process
// never reuses bytes its parent read ahead.
#include <cstddef>
#include <cstdint>
#include <string>

namespace tether::net {

// Fills `out` with `n` bytes from the OS's CSPRNG. Never fails (aborts if
// the kernel refuses getrandom, which Linux does not once booted).
void random_bytes(void* out, std::size_t n);

// `bytes` random bytes as lowercase hex (2 * bytes characters).
std::string random_hex(std::size_t bytes);

// A random RFC 4122 version-4 GUID, lowercase, "8-4-4-4-12" form.
std::string random_guid();

// `chars` random characters of base64url (RFC 4648 §5, no padding): 6 bits
// each, so 22 characters carry 132 bits.
std::string random_base64url(std::size_t chars);

// A uniformly random integer in [0, bound) (no modulo bias). bound must be > 0.
std::uint64_t random_below(std::uint64_t bound);

}  // namespace tether::net
