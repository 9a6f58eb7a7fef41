#!/usr/bin/env bash
# The whole test suite, from nothing: installs what it needs, builds with
# warnings as errors, runs every test registered with ctest.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R integration]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Every C++ line changed since .clang-format was adopted is formatted.
scripts/check-format.sh
# The modules' includes form no cycle and match their CMake targets.
python3 scripts/check-modules.py
# -g1: line tables only (backtraces keep file:line). Full -g costs a quarter
# more compile time on the Beast-heavy files and twice the object size
# (docs/benchmarks.md, "Time to first run"); a debugging build sets its own.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTETHER_WERROR=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2 --timeout 600 "$@"

# The bad-input suites again under AddressSanitizer + UBSan + LeakSanitizer
# (docs/reliability.md): only the tether binary and those three test programs
# are built this way, in build-asan/. Skipped when ctest was given a filter.
if [ $# -eq 0 ]; then
  # -O1 -g1: ASan's recommended optimisation with line tables only, which
  # keeps this second build of Beast/Asio affordable on two cores.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DTETHER_WERROR=ON -DTETHER_SANITIZE=ON >/dev/null
  cmake --build build-asan -j2 --target tether bad_input_integration_test \
    hostile_bad_input_integration_test signalr_bad_input_integration_test
  ctest --test-dir build-asan --output-on-failure -j2 --timeout 600 -R 'BadInput|Hostile' \
    --no-tests=error
  # libFuzzer, 20 s per target (clang-14; skipped with a message without it).
  tests/fuzz/run.sh 20
fi
