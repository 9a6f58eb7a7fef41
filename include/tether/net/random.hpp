#pragma once
// Identifiers: random hex strings and GUIDs from a per-thread generator
// seeded by the OS. Not for secrets; see net/sha256.hpp for hashing.
#include <cstdint>
#include <string>

namespace tether::net {

// `bytes` random bytes as lowercase hex (2 * bytes characters).
std::string random_hex(std::size_t bytes);

// A random RFC 4122 version-4 GUID, lowercase, "8-4-4-4-12" form.
std::string random_guid();

// A uniformly random integer in [0, bound). bound must be > 0.
std::uint64_t random_below(std::uint64_t bound);

}  // namespace tether::net
