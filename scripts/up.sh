#!/usr/bin/env bash
# The main job, from nothing: installs what it needs, builds tether, and runs
# `tether up` (a front door on http://127.0.0.1:8080 and 3 instances).
# Arguments go to `tether up`, e.g. scripts/up.sh --instances 5 --port 9000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target tether
exec build/tether up "$@"
