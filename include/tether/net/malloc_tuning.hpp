#pragma once
// glibc's allocator keeps at most 7 freed blocks of each small size per
// thread (its tcache); the rest go through its bins, and the next large
// request consolidates them. A proxy frees hundreds of same-size blocks in a
// burst (one per stream or request in flight), so tether raises that count:
// 64 gave `tether front` 3-4 % more HTTP/1.1 requests per second and about
// 7 % more HTTP/2 streams per second at 4-9 % less CPU per request
// (docs/front-door.md, "Memory allocator"). GLIBC_TUNABLES is read only when
// a process starts, so tether re-executes itself once with
// glibc.malloc.tcache_count added, then puts the variable back as it was:
// the processes it starts (an app, a sidecar command, its instances) get the
// environment tether was given. TETHER_MALLOC_TUNING=off skips it; a
// GLIBC_TUNABLES that already sets tcache_count is left alone.
#include <optional>
#include <string>

namespace tether::net {

inline constexpr const char* kMallocTunedVariable = "TETHER_MALLOC_TUNED";
inline constexpr int kTcacheCount = 64;

// What to do, from the environment (pure; null = unset).
struct MallocTuningStep {
  enum class Kind { none, reexec, restore } kind = Kind::none;
  // reexec: GLIBC_TUNABLES for the new image, and the marker that records
  // the original ("unset", or "set:" + the value).
  std::string tunables, marker;
  // restore: what GLIBC_TUNABLES goes back to (nullopt: unset).
  std::optional<std::string> restore_to;
};
MallocTuningStep plan_malloc_tuning(const char* tunables, const char* marker, const char* opt_out,
                                    const char* ld_preload);

// Applies plan_malloc_tuning to this process: does not return when it
// re-executes (/proc/self/exe with the same argv, the same pid); on any
// failure it leaves the environment as it was and returns.
void tune_malloc(char** argv);

}  // namespace tether::net
