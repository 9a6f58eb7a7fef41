#!/usr/bin/env bash
# The soak (docs/reliability.md): builds tether-meshprobe (tether plus the
# meshprobe app, bench/meshprobe/) like scripts/up.sh builds tether, then runs
# bench/soak/soak.py against a `tether-meshprobe up --app meshprobe` plan.
#   bench/soak/run.sh [--minutes 10] [--instances 4] [--kill-every 20] ...
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-deps.sh --build-only
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target tether-meshprobe
exec python3 bench/soak/soak.py --binary build/bench/tether-meshprobe "$@"
