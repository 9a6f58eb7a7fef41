#include "tether/net/malloc_tuning.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace tether::net {

namespace {

constexpr std::string_view kTunable = "glibc.malloc.tcache_count";

}  // namespace

MallocTuningStep plan_malloc_tuning(const char* tunables, const char* marker, const char* opt_out,
                                    const char* ld_preload) {
  MallocTuningStep step;
  if (marker) {  // the re-executed image: put GLIBC_TUNABLES back
    const std::string_view m(marker);
    step.kind = MallocTuningStep::Kind::restore;
    if (m.substr(0, 4) == "set:") step.restore_to = std::string(m.substr(4));
    return step;
  }
  if (opt_out) {
    const std::string_view o(opt_out);
    if (o == "off" || o == "0" || o == "false" || o == "no") return step;
  }
  // Under valgrind /proc/self/exe is valgrind's own tool.
  if (ld_preload && std::string_view(ld_preload).find("vgpreload") != std::string_view::npos)
    return step;
  const std::string_view current = tunables ? std::string_view(tunables) : std::string_view{};
  if (current.find(kTunable) != std::string_view::npos) return step;  // the user's choice
  step.kind = MallocTuningStep::Kind::reexec;
  step.tunables = std::string(current);
  if (!step.tunables.empty()) step.tunables += ':';
  step.tunables += std::string(kTunable) + "=" + std::to_string(kTcacheCount);
  step.marker = tunables ? "set:" + std::string(current) : std::string("unset");
  return step;
}

void tune_malloc(char** argv) {
  const char* original = std::getenv("GLIBC_TUNABLES");
  const std::optional<std::string> before =
      original ? std::optional<std::string>(original) : std::nullopt;
  const MallocTuningStep step =
      plan_malloc_tuning(original, std::getenv(kMallocTunedVariable),
                         std::getenv("TETHER_MALLOC_TUNING"), std::getenv("LD_PRELOAD"));
  auto put_back = [](const std::optional<std::string>& value) {
    if (value)
      ::setenv("GLIBC_TUNABLES", value->c_str(), 1);
    else
      ::unsetenv("GLIBC_TUNABLES");
    ::unsetenv(kMallocTunedVariable);
  };
  switch (step.kind) {
    case MallocTuningStep::Kind::none: return;
    case MallocTuningStep::Kind::restore: put_back(step.restore_to); return;
    case MallocTuningStep::Kind::reexec:
      if (::setenv(kMallocTunedVariable, step.marker.c_str(), 1) != 0 ||
          ::setenv("GLIBC_TUNABLES", step.tunables.c_str(), 1) != 0) {
        put_back(before);
        return;
      }
      ::execv("/proc/self/exe", argv);
      put_back(before);  // exec failed: run as we are
      return;
  }
}

}  // namespace tether::net
