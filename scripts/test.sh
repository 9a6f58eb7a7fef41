#!/usr/bin/env bash
# The whole test suite, from nothing: installs what it needs, builds once
# with AddressSanitizer + UBSan + LeakSanitizer and warnings as errors, runs
# every test registered with ctest under it, then the fuzz targets.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R integration]
#
# One build, not two: every test (unit, integration, Node, browser) runs
# against sanitized code, so the bad-input suites need no second build
# (docs/reliability.md, "Sanitizers"). -O0: with ASan this compiles faster
# than -O2 without it, and the suite is bound by its processes' waits, not
# their CPU (docs/benchmarks.md, "Time to first run"). build-test/ is not
# build/, which scripts/up.sh and the benchmarks build optimised.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --system-only
# The npm packages download while the build keeps the cores busy.
npm_log=$(mktemp "${TMPDIR:-/tmp}/tether-npm.XXXXXX")
scripts/install-deps.sh --npm-only >"$npm_log" 2>&1 &
npm_pid=$!
# Every C++ line changed since .clang-format was adopted is formatted.
scripts/check-format.sh
# The modules' includes form no cycle and match their CMake targets.
python3 scripts/check-modules.py
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
[ -f build-test/CMakeCache.txt ] && generator=()  # keep the one it was made with
cmake -S . -B build-test "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DTETHER_WERROR=ON -DTETHER_SANITIZE=ON >/dev/null
cmake --build build-test -j2
if ! wait "$npm_pid"; then
  cat "$npm_log" >&2
  echo "test.sh: installing the npm packages failed (above)" >&2
  exit 1
fi
cat "$npm_log" >&2
rm -f "$npm_log"
# A sanitizer report fails the process that made it: exit code 86 (ASan,
# LSan) or 87 (UBSan), with a stack trace. Tests that stop a tether process
# check that it exited 0.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}
ctest --test-dir build-test --output-on-failure -j2 --timeout 600 "$@"

# libFuzzer, 20 s per target, one per core (clang-14; skipped with a message
# without it). Skipped when ctest was given a filter.
if [ $# -eq 0 ]; then
  tests/fuzz/run.sh 20
fi
