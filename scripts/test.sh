#!/usr/bin/env bash
# The whole test suite, from nothing: installs what it needs, builds with
# warnings as errors, runs every test registered with ctest.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R integration]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTETHER_WERROR=ON >/dev/null
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2 --timeout 600 "$@"
