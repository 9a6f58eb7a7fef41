#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 in build-fuzz/ and runs each one
# for a bounded time over its seed corpus (tests/fuzz/corpus/<target>/).
# New inputs go to build-fuzz/corpus/<target>/ (not into the repo); a crash
# leaves its input in build-fuzz/artifacts/ and fails the script.
# Usage: tests/fuzz/run.sh [seconds per target, default 20] [target...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(http_request front_forward cookies mesh_frame mesh_handshake signalr_message signalr_msgpack h2_session)
if ! command -v clang++-14 >/dev/null; then
  echo "fuzz: clang++-14 not installed; skipping (scripts/install-deps.sh installs it)" >&2
  exit 0
fi
CC=clang-14 CXX=clang++-14 cmake -S tests/fuzz -B build-fuzz >/dev/null
cmake --build build-fuzz -j2 >/dev/null
mkdir -p build-fuzz/artifacts
# One target per core at a time (FUZZ_JOBS, default nproc): each is one
# single-threaded libFuzzer process.
jobs=${FUZZ_JOBS:-$(nproc)}
fuzz_one() {
  local t=$1
  mkdir -p "build-fuzz/corpus/$t"
  # -rss_limit_mb: the front door's own limits keep inputs small; 2 GB is
  # ASan's headroom. -timeout: one input taking 10 s is a hang.
  if ! build-fuzz/fuzz_$t -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" \
    "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" 2>"build-fuzz/$t.log"; then
    echo "fuzz: $t FAILED; log tail:" >&2
    tail -40 "build-fuzz/$t.log" >&2
    return 1
  fi
  echo "fuzz: $t for ${seconds}s: $(grep -E "stat::number_of_executed_units|stat::peak_rss_mb" \
    "build-fuzz/$t.log" | tr '\n' ' ')" >&2
}
pids=() failed=0
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
