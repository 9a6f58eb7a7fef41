#!/usr/bin/env bash
# bench/front/h2.sh: HTTP/2 toward clients, tether front beside HAProxy 2.6's
# h2 frontend in one run (issue 15, part 2). Results: docs/benchmarks.md.
#
#   bench/front/h2.sh [--quick]        (TETHER_BINARY=path skips the build)
#
# Layout, as bench/front/run.sh: everything on core 0 (taskset -c 0), one
# nginx backend (1 worker, two listen ports = two servers, `return 200` with
# a 95-byte body), HAProxy nbthread 1 with `bind ... proto h2` (cleartext
# HTTP/2 with prior knowledge) and `cookie SERVERID insert indirect
# nocache`, tether front --threads 1 (h2c is on by default, ARRAffinity).
# h2load -c 10 -m 10 (100 concurrent streams over 10 connections) for 10 s
# (3 with --quick) against each, first without a cookie (every response sets
# one), then with the affinity cookie sent; the proxy's utime+stime from
# /proc/PID/stat around each run gives CPU per request. Prints a Markdown
# table (also build-bench/bench-h2-results.md). Only 127.0.0.1 is contacted;
# every process is started here and stopped by PID.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
DURATION=10
[ "${1:-}" = --quick ] && DURATION=3
RESULTS=$BUILD/bench-h2-results.md
say() { printf '[h2.sh %s] %s\n' "$(date +%T)" "$*" >&2; }
fail() { say "error: $*"; exit 1; }

missing=()
for p in haproxy nginx nghttp2-client curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
TETHER=${TETHER_BINARY:-}
if [ -z "$TETHER" ]; then
  say "building tether (Release) in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j2 --target tether >/dev/null
  TETHER=$BUILD/tether
fi
mkdir -p "$BUILD"

# shellcheck source=bench/front/common.sh
. "$ROOT/bench/front/common.sh"
bench_tmp h2
launch() { local n=$1; shift; taskset -c 0 "$@" >"$TMP/$n.log" 2>&1 & PID=$!; PIDS+=("$PID"); }
ready() {  # ready PORT [CURL ARGS]: until it answers 200 over h2c (or as the args say)
  local port=$1; shift
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$@" "http://127.0.0.1:$port/")" = 200 ] && return 0
    sleep 0.1
  done
  fail "nothing answers 200 on 127.0.0.1:$port"
}
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
sticks() { awk '{ sub(/.*\) /, ""); print $13 }' "/proc/$1/stat"; }  # stime: the kernel's part
HZ=$(getconf CLK_TCK)

read -r B1 B2 HA <<<"$(free_ports 3)"
BODY=$(printf 'tether-bench backend %074d' 0)
mkdir -p "$TMP/ng/logs"
cat >"$TMP/ng/nginx.conf" <<EOF
daemon off; master_process on; worker_processes 1; $( [ "$(id -u)" -eq 0 ] && echo "user root;" )
pid $TMP/ng/nginx.pid; error_log $TMP/ng/logs/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path $TMP/ng/cb; proxy_temp_path $TMP/ng/p; fastcgi_temp_path $TMP/ng/f;
  uwsgi_temp_path $TMP/ng/u; scgi_temp_path $TMP/ng/s;
  server { listen 127.0.0.1:$B1; listen 127.0.0.1:$B2;
           location / { default_type text/plain; return 200 "$BODY"; } } }
EOF
launch nginx "$(command -v nginx || echo /usr/sbin/nginx)" -p "$TMP/ng" -c "$TMP/ng/nginx.conf"
ready "$B1"; ready "$B2"

haproxy_head_common 1 4000 >"$TMP/haproxy.cfg"
cat >>"$TMP/haproxy.cfg" <<EOF
frontend fe
  bind 127.0.0.1:$HA proto h2
  default_backend be
backend be
  balance roundrobin
  http-reuse always
  cookie SERVERID insert indirect nocache
  server b1 127.0.0.1:$B1 cookie b1
  server b2 127.0.0.1:$B2 cookie b2
EOF
launch haproxy "$(command -v haproxy || echo /usr/sbin/haproxy)" -db -f "$TMP/haproxy.cfg"
HA_PID=$PID
ready "$HA" --http2-prior-knowledge

launch tether "$TETHER" front --listen 127.0.0.1 --port 0 --threads 1 --log-level warn \
  --instance "b1=127.0.0.1:$B1" --instance "b2=127.0.0.1:$B2"
TE_PID=$PID
for _ in $(seq 100); do
  TE=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$TMP/tether.log" | head -1)
  [ -n "$TE" ] && break
  sleep 0.1
done
[ -n "${TE:-}" ] || fail "tether front did not say where it listens: $(tail -3 "$TMP/tether.log")"
ready "$TE" --http2-prior-knowledge

# measure NAME PID PORT [h2load args]: one row: req/s, p50/p99-ish mean latency, CPU µs/req.
ROWS=()
measure() {
  local name=$1 pid=$2 port=$3; shift 3
  h2load -c 10 -m 10 -D 1 "$@" "http://127.0.0.1:$port/" >/dev/null 2>&1  # warm-up
  local t0 t1 s0 s1 out
  t0=$(ticks "$pid"); s0=$(sticks "$pid")
  out=$(taskset -c 0 h2load -c 10 -m 10 -D "$DURATION" "$@" "http://127.0.0.1:$port/" 2>&1)
  t1=$(ticks "$pid"); s1=$(sticks "$pid")
  local rps done2xx mean
  rps=$(sed -nE 's/^finished in [^,]+, ([0-9.]+) req\/s.*/\1/p' <<<"$out")
  done2xx=$(sed -nE 's/^status codes: ([0-9]+) 2xx.*/\1/p' <<<"$out")
  mean=$(awk '/^time for request:/ { print $6 }' <<<"$out")
  [ -n "$rps" ] && [ "${done2xx:-0}" -gt 0 ] || fail "$name: h2load said: $out"
  local us ks
  us=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$done2xx" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  ks=$(awk -v d=$((s1 - s0)) -v hz="$HZ" -v n="$done2xx" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  ROWS+=("$name|$rps|$mean|$us|$ks")
  say "$name: $rps req/s, CPU $us µs/req ($ks in the kernel), mean $mean"
}
say "h2load -c 10 -m 10 for ${DURATION}s per row, everything on core 0"
measure "HAProxy 2.6, cookie insert" "$HA_PID" "$HA"
measure "tether front, sets ARRAffinity" "$TE_PID" "$TE"
measure "HAProxy, cookie sent" "$HA_PID" "$HA" -H "cookie: SERVERID=b1"
measure "tether front, cookie sent" "$TE_PID" "$TE" -H "cookie: ARRAffinity=b1"

{
  echo "| path (h2c, 100 streams over 10 connections) | req/s | mean latency | proxy CPU µs/req | of which kernel |"
  echo "|---|---|---|---|---|"
  for r in "${ROWS[@]}"; do IFS='|' read -r n a b c k <<<"$r"; echo "| $n | $a | $b | $c | $k |"; done
  IFS='|' read -r _ ha_rps _ ha_us _ <<<"${ROWS[0]}"
  IFS='|' read -r _ te_rps _ te_us _ <<<"${ROWS[1]}"
  IFS='|' read -r _ ha2_rps _ ha2_us _ <<<"${ROWS[2]}"
  IFS='|' read -r _ te2_rps _ te2_us _ <<<"${ROWS[3]}"
  awk -v a="$te_rps" -v b="$ha_rps" -v c="$te_us" -v d="$ha_us" -v e="$te2_rps" -v f="$ha2_rps" \
      -v g="$te2_us" -v h="$ha2_us" 'BEGIN {
    printf "\ntether / HAProxy: cookie set %.2fx req/s, %.2fx CPU per request; cookie sent %.2fx req/s, %.2fx CPU per request (target: req/s >= 1.0x)\n",
      a / b, c / d, e / f, g / h }'
} | tee "$RESULTS"
