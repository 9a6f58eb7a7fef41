// net::plan_malloc_tuning: when tether re-executes itself with a larger
// glibc tcache, and what it puts back afterwards.
#include "tether/net/malloc_tuning.hpp"

#include <gtest/gtest.h>

namespace tether::net {
namespace {

using Kind = MallocTuningStep::Kind;

TEST(MallocTuning, AddsTheTcacheCountAndRemembersThatNothingWasSet) {
  const auto s = plan_malloc_tuning(nullptr, nullptr, nullptr, nullptr);
  EXPECT_EQ(s.kind, Kind::reexec);
  EXPECT_EQ(s.tunables, "glibc.malloc.tcache_count=64");
  EXPECT_EQ(s.marker, "unset");
}

TEST(MallocTuning, KeepsTheUsersOtherTunables) {
  const auto s = plan_malloc_tuning("glibc.malloc.mxfast=0", nullptr, nullptr, "libfoo.so");
  EXPECT_EQ(s.kind, Kind::reexec);
  EXPECT_EQ(s.tunables, "glibc.malloc.mxfast=0:glibc.malloc.tcache_count=64");
  EXPECT_EQ(s.marker, "set:glibc.malloc.mxfast=0");
  const auto empty = plan_malloc_tuning("", nullptr, nullptr, nullptr);
  EXPECT_EQ(empty.tunables, "glibc.malloc.tcache_count=64");
  EXPECT_EQ(empty.marker, "set:");
}

TEST(MallocTuning, LeavesAloneAUsersTcacheCountAnOptOutAndValgrind) {
  EXPECT_EQ(plan_malloc_tuning("glibc.malloc.tcache_count=7", nullptr, nullptr, nullptr).kind,
            Kind::none);
  for (const char* off : {"off", "0", "false", "no"})
    EXPECT_EQ(plan_malloc_tuning(nullptr, nullptr, off, nullptr).kind, Kind::none) << off;
  EXPECT_EQ(plan_malloc_tuning(nullptr, nullptr, "on", nullptr).kind, Kind::reexec);
  EXPECT_EQ(plan_malloc_tuning(nullptr, nullptr, nullptr,
                               "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so")
                .kind,
            Kind::none);
}

TEST(MallocTuning, TheReexecutedImagePutsTheOriginalBack) {
  const auto unset = plan_malloc_tuning("glibc.malloc.tcache_count=64", "unset", nullptr, nullptr);
  EXPECT_EQ(unset.kind, Kind::restore);
  EXPECT_FALSE(unset.restore_to.has_value());
  const auto set =
      plan_malloc_tuning("a=1:glibc.malloc.tcache_count=64", "set:a=1", nullptr, nullptr);
  EXPECT_EQ(set.kind, Kind::restore);
  EXPECT_EQ(set.restore_to, "a=1");
  const auto empty = plan_malloc_tuning("glibc.malloc.tcache_count=64", "set:", nullptr, nullptr);
  EXPECT_EQ(empty.restore_to, "");
}

}  // namespace
}  // namespace tether::net
