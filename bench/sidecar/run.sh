#!/usr/bin/env bash
# bench/sidecar/run.sh: what the sidecar costs an app in any language
# (issue 14, item 9). Results: docs/benchmarks.md ("The sidecar").
#
#   bench/sidecar/run.sh [--quick] [TETHER_BINARY]
#
#   --quick    wrk runs 3 s instead of 10 s, the latency run 3 s instead of 10 s
#
# 1. Request cost: a Node.js app (bench/sidecar/hello.mjs, 200 with a 95-byte
#    body) reached directly on its port, then through `tether serve -- node
#    hello.mjs` (the sidecar's relay in front of the same app). wrk -t1 at 50
#    connections; the app and the sidecar pinned to core 0, wrk to core 1;
#    utime+stime of each process read from /proc/PID/stat around each run.
#    Reports req/s, p50/p99, the app's CPU µs per request, the sidecar's, and
#    their ratio (target: the sidecar adds at most 25% of the app's own cost).
#    The same with HAProxy 2.6 (nbthread 1) as the hop instead, in the same run:
#    the anchor for what any proxy hop costs.
# 2. Messaging latency: `tether up -n 3 -- python3 tests/integration/apps/sidecar_app.py`;
#    bench/sidecar/latency.mjs subscribes through the local API of instances 2
#    and 3 and publishes 5,000 msg/s through instance 1's; p50/p99 of publish
#    -> SSE delivery.
# Every process is started here and stopped by PID on exit; only 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=10
LAT_SECONDS=10
TETHER=""
for arg in "$@"; do
  case "$arg" in
    --quick) DURATION=3; LAT_SECONDS=3 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) TETHER=$arg ;;
  esac
done
TETHER=${TETHER:-$ROOT/build/tether}
[ -x "$TETHER" ] || { echo "run.sh: no tether binary at $TETHER (build it, or pass its path)" >&2; exit 2; }
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y wrk >/dev/null || sudo apt-get install -y wrk >/dev/null; }
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
log() { printf '[sidecar bench %s] %s\n' "$(date +%T)" "$*" >&2; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The pids of a process tree (the sidecar and its app are separate processes).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -fs -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.05; done; return 1; }

# run_wrk PORT APP_PID [SIDECAR_PID] -> "req/s p50 p99 app_us sidecar_us"
run_wrk() {
  local port=$1 app=$2 side=${3:-}
  taskset -c 1 wrk -t1 -c50 -d2s "http://127.0.0.1:$port/" >/dev/null  # warm-up
  local hz; hz=$(getconf CLK_TCK)
  local a0 s0=0; a0=$(cpu_ticks "$app"); [ -n "$side" ] && s0=$(cpu_ticks "$side")
  taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" --latency "http://127.0.0.1:$port/" > "$TMP/wrk.txt"
  local a1 s1=0; a1=$(cpu_ticks "$app"); [ -n "$side" ] && s1=$(cpu_ticks "$side")
  local reqs; reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.txt")
  local rps; rps=$(awk '/Requests\/sec/ {printf "%d", $2}' "$TMP/wrk.txt")
  local p50; p50=$(awk '$1=="50%" {print $2}' "$TMP/wrk.txt")
  local p99; p99=$(awk '$1=="99%" {print $2}' "$TMP/wrk.txt")
  local errs; errs=$(awk '/Non-2xx|Socket errors/ {print}' "$TMP/wrk.txt" | tr '\n' ' ')
  local app_us side_us="-"
  app_us=$(awk -v t=$((a1 - a0)) -v hz="$hz" -v n="$reqs" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  [ -n "$side" ] && side_us=$(awk -v t=$((s1 - s0)) -v hz="$hz" -v n="$reqs" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  echo "$rps|$p50|$p99|$app_us|$side_us|${errs:-0}"
}

# --- 1. request cost ---------------------------------------------------------
log "direct: node hello.mjs"
PORT_APP=$(free_port)
PORT=$PORT_APP taskset -c 0 node "$ROOT/bench/sidecar/hello.mjs" & APP=$!; PIDS+=($APP)
wait_http "$PORT_APP"
DIRECT=$(run_wrk "$PORT_APP" "$APP")
kill "$APP"; wait "$APP" 2>/dev/null || true

log "through the sidecar: tether serve -- node hello.mjs"
taskset -c 0 "$TETHER" serve --listen 127.0.0.1 --port 0 --log-level warn -- \
  node "$ROOT/bench/sidecar/hello.mjs" > "$TMP/serve.out" 2> "$TMP/serve.err" & SIDE=$!; PIDS+=($SIDE)
for _ in $(seq 1 600); do grep -q "listening on" "$TMP/serve.out" && break; sleep 0.05; done
PORT_SIDE=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$TMP/serve.out" | head -1 | cut -d: -f2)
APP=$(pgrep -P "$SIDE" node | head -1)
[ -n "$PORT_SIDE" ] && [ -n "$APP" ] || { cat "$TMP/serve.err" >&2; exit 1; }
SIDECAR=$(run_wrk "$PORT_SIDE" "$APP" "$SIDE")
kill "$SIDE"; wait "$SIDE" 2>/dev/null || true

log "the anchor: HAProxy 2.6 (nbthread 1) in front of the same app"
PORT_APP=$(free_port)
PORT=$PORT_APP taskset -c 0 node "$ROOT/bench/sidecar/hello.mjs" & APP=$!; PIDS+=($APP)
wait_http "$PORT_APP"
PORT_HA=$(free_port)
cat > "$TMP/haproxy.cfg" <<CFG
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend f
  bind 127.0.0.1:$PORT_HA
  default_backend b
backend b
  server app 127.0.0.1:$PORT_APP
CFG
taskset -c 0 haproxy -f "$TMP/haproxy.cfg" -db > "$TMP/haproxy.log" 2>&1 & HA=$!; PIDS+=($HA)
wait_http "$PORT_HA"
HAPROXY=$(run_wrk "$PORT_HA" "$APP" "$HA")
kill "$HA" "$APP"; wait "$HA" "$APP" 2>/dev/null || true

# --- 2. messaging latency ------------------------------------------------------
log "publish -> SSE across 3 instances at 5,000 msg/s"
STATE=$TMP/state
"$TETHER" up --port 0 --instances 3 --state-dir "$STATE" --log-level warn -- \
  python3 "$ROOT/tests/integration/apps/sidecar_app.py" > "$TMP/up.out" 2> "$TMP/up.err" & UP=$!; PIDS+=($UP)
for _ in $(seq 1 1200); do grep -q "3/3 instances ready" "$TMP/up.out" && break; sleep 0.05; done
ADMIN=$(grep -o 'admin http://127.0.0.1:[0-9]*' "$TMP/up.out" | head -1 | cut -d: -f3)
[ -n "$ADMIN" ] || { cat "$TMP/up.err" >&2; exit 1; }
ARGS=()
for port in $(curl -fs "http://127.0.0.1:$ADMIN/status" | python3 -c 'import json,sys; print(" ".join(str(p["port"]) for p in json.load(sys.stdin)["processes"]))'); do
  for _ in $(seq 1 600); do
    n=$(curl -fs "http://127.0.0.1:$port/.tether/mesh/status" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["members"]))' 2>/dev/null || echo 0)
    [ "$n" = 3 ] && break; sleep 0.05
  done
  ARGS+=($(curl -fs "http://127.0.0.1:$port/env" | python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["TETHER_API"], e["TETHER_API_TOKEN"])'))
done
LAT=$(node "$ROOT/bench/sidecar/latency.mjs" 5000 "$LAT_SECONDS" "${ARGS[@]}")
kill "$UP"; wait "$UP" 2>/dev/null || true

# --- results -----------------------------------------------------------------------
IFS='|' read -r d_rps d_p50 d_p99 d_app _ d_err <<< "$DIRECT"
IFS='|' read -r s_rps s_p50 s_p99 s_app s_side s_err <<< "$SIDECAR"
IFS='|' read -r h_rps h_p50 h_p99 h_app h_side h_err <<< "$HAPROXY"
ratio=$(awk -v s="$s_side" -v a="$d_app" 'BEGIN {printf "%.2f", s / a}')
h_ratio=$(awk -v s="$h_side" -v a="$d_app" 'BEGIN {printf "%.2f", s / a}')
cat <<MD
| path (app and sidecar on core 0, wrk -t1 -c50 on core 1) | req/s | p50 / p99 | app CPU µs/req | sidecar CPU µs/req | errors |
|---|---|---|---|---|---|
| node hello.mjs, direct | $d_rps | $d_p50 / $d_p99 | $d_app | - | $d_err |
| node hello.mjs behind \`tether serve -- node hello.mjs\` | $s_rps | $s_p50 / $s_p99 | $s_app | $s_side | $s_err |
| node hello.mjs behind HAProxy 2.6 (the anchor; "sidecar" column = HAProxy) | $h_rps | $h_p50 / $h_p99 | $h_app | $h_side | $h_err |

Sidecar CPU per request / the app's own (direct): **$ratio** (target ≤ 0.25); HAProxy's: **$h_ratio**.

Publish -> SSE, 3 instances, local API: \`$LAT\`
MD
