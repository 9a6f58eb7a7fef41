#!/usr/bin/env bash
# bench/realtime/run.sh: broadcast to 1,000 receivers over 3 instances at
# saturation -- tether (mesh and Redis backplane, JSON and MessagePack) beside
# Socket.IO 4 on Node with @socket.io/redis-adapter, in one run (issue 16,
# part 8). Results: docs/benchmarks.md, "Realtime broadcast vs Socket.IO".
#
#   TETHER_BINARY=build/tether bench/realtime/run.sh [--quick] [bench.mjs options]
#
#   --quick   one run per configuration, 1 s windows (checks that everything works)
#   other options go to bench.mjs: --repeats N (2), --clients N (1000),
#   --workers N (2 load generator processes), --window S (3), --warm S (1),
#   --start-rate R (100 msg/s), --factor F (1.5), --p99-bound MS (250),
#   --rows mesh-json,mesh-msgpack,redis-json,redis-msgpack,socketio
#
# What it does:
#   1. npm ci in bench/realtime (socket.io 4, @socket.io/redis-adapter, redis,
#      ws, @msgpack/msgpack from the committed package-lock.json) and, if
#      missing, in tests/realtime (the official @microsoft/signalr clients);
#      apt-get install redis-server if it is missing;
#   2. starts redis-server on a unix socket in a temp dir (no persistence);
#   3. waits up to QUIET_WAIT_MAX seconds (default 120) for no compiler to run;
#   4. runs bench.mjs: for each configuration a fresh system (`tether up
#      --instances 3`, or 3 `node sio-server.mjs`), 1,000 receivers connected
#      directly to the 3 instances/processes, 3 senders, rates raised step by
#      step; server CPU from /proc/PID/stat;
#   5. prints the Markdown tables (report.mjs), also written to
#      $RESULTS (default build-bench/bench-realtime-results.md) beside the raw JSON.
#
# Every process is started here or by bench.mjs, its PID recorded, and stopped
# by that PID. About 4-5 minutes by default.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/bench/realtime
PASS=()
while [ $# -gt 0 ]; do
  arg=$1; shift
  case "$arg" in
    --quick) PASS+=(--repeats 1 --window 1 --warm 0.5) ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) PASS+=("$arg") ;;
  esac
done
log() { printf '[run.sh %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

export TETHER_BINARY=${TETHER_BINARY:-$ROOT/build/tether}
[ -x "$TETHER_BINARY" ] || die "no tether at $TETHER_BINARY: build it or set TETHER_BINARY"
RESULTS=${RESULTS:-$ROOT/build-bench/bench-realtime-results.md}
mkdir -p "$(dirname "$RESULTS")"

# --- 1. what we need ------------------------------------------------------------
command -v node >/dev/null || die "node (>= 20) is needed"
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  log "installing redis-server"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
log "npm ci in bench/realtime"
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
if [ ! -e "$ROOT/tests/realtime/node_modules/@microsoft/signalr-protocol-msgpack" ]; then
  log "npm ci in tests/realtime (the official clients)"
  (cd "$ROOT/tests/realtime" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# --- processes: started here, stopped by PID -------------------------------------
TMP=$(mktemp -d /tmp/tether-bench-realtime.XXXXXX)
REDIS_PID=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$REDIS_PID" ]; then kill -TERM "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; fi
  if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -ne 0 ]; then log "logs kept in $TMP"; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 2. Redis ------------------------------------------------------------------------
SOCK=$TMP/redis.sock
redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --save '' --appendonly no \
  --dir "$TMP" --logfile "$TMP/redis.log" &
REDIS_PID=$!
for _ in $(seq 100); do
  [ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
[ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" = PONG ] || die "redis-server did not answer: $(tail -3 "$TMP/redis.log")"

# --- 3. a quiet machine ------------------------------------------------------------------
compiling() {
  local p
  for p in cc1plus cc1 ld mold ninja; do pgrep -x "$p" >/dev/null && return 0; done
  return 1
}
waited=0
while compiling && [ "$waited" -lt "${QUIET_WAIT_MAX:-120}" ]; do
  [ "$waited" -eq 0 ] && log "a compiler is running: waiting up to ${QUIET_WAIT_MAX:-120} s for it to finish"
  sleep 2; waited=$((waited + 2))
done
compiling && log "still compiling: measuring anyway (the disturbed steps are listed in the results)"

# --- 4. the bench --------------------------------------------------------------------------
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
START=$(date -u '+%Y-%m-%d %H:%M')
log "load average $(cut -d' ' -f1-3 /proc/loadavg); tether $TETHER_BINARY"
node "$HERE/bench.mjs" --redis "$SOCK" --redis-pid "$REDIS_PID" --out "$TMP/results.json" "${PASS[@]}"
cp "$TMP/results.json" "${RESULTS%.md}.json"

# --- 5. the tables ---------------------------------------------------------------------------
CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
node "$HERE/report.mjs" "$TMP/results.json" \
  "Run of $START–$(date -u +%H:%M) UTC, bench tree $COMMIT, tether $TETHER_BINARY; $(nproc) × $CPU;" \
  "Node $(node --version), Redis $(redis-server --version | sed -E 's/.*v=([0-9.]+).*/\1/'), socket.io $(node -p "require('$HERE/node_modules/socket.io/package.json').version"); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)." \
  "" | tee "$RESULTS"
log "results written to $RESULTS (raw: ${RESULTS%.md}.json)"
