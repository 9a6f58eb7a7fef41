#!/usr/bin/env bash
# bench/front/run.sh: tether front beside HAProxy 2.6 and nginx 1.22, in one run,
# with the same nginx backends (issue 3, item 8). Results: docs/benchmarks.md.
#
#   bench/front/run.sh [--quick] [--profile] [--no-ws] [--commit REV]
#
#   --quick    wrk runs 3 s instead of 10 s and 500 tunnels instead of 5,000 (smoke test)
#   --profile  also count syscalls and context switches per request of each proxy
#              (perf stat) and profile `tether front --threads 1` and HAProxy under wrk
#              load (perf record, cpu-clock sampling); installs linux-perf if missing
#   --no-ws    skip the idle WebSocket tunnel memory rows
#   --commit REV  build tether from commit REV (a `git archive` snapshot, read-only for the
#              repository) into build-bench/rev-<sha>/ instead of the working tree: a
#              reproducible run while the working tree is being edited
#
# What it does (bench/README.md explains every number):
#   1. installs haproxy, nginx, wrk (and curl) with apt-get, only those missing;
#   2. builds tether Release into build-bench/ (build-bench/rev-<sha>/ with --commit)
#      and the bench tool ws_idle into build-bench/bench/, with:
#        cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF
#        cmake --build build-bench -j2 --target tether
#        cmake -S bench -B build-bench/bench -DCMAKE_BUILD_TYPE=Release
#        cmake --build build-bench/bench -j2 --target ws_idle
#   3. starts, everything under `taskset -c 0` (one core: the stable layout on
#      2-vCPU guests) and on 127.0.0.1 ports the OS reports free: one nginx
#      backend (1 worker, two listen ports = two servers, `return 200` with a
#      95-byte body), HAProxy (nbthread 1), an nginx proxy (1 worker, upstream
#      keepalive) and tether front (--threads 1) processes;
#   4. runs wrk -t1 -d10s --latency at 50 and 200 connections against each path,
#      reading the proxy's utime+stime from /proc/PID/stat around every run; then
#      the two-thread rows: tether --threads 2 beside HAProxy nbthread 2 (cookie
#      insert and cookie sent), proxies and wrk -t2 on both cores;
#   5. opens 5,000 idle WebSocket tunnels through fresh tether / HAProxy / nginx
#      processes to `tether serve`'s /ws and reads each proxy's VmRSS growth;
#   6. prints Markdown tables and the targets met or missed (also written to
#      build-bench/bench-front-results.md); progress and errors go to stderr.
#
# Before each measured segment it waits (bounded) for the machine to be quiet:
# no compiler (cc1plus) running and under 20% CPU busy over one second. Every
# row records whether that held. Only 127.0.0.1 is contacted. Every process is
# started here, its PID recorded, and stopped by that PID on exit. Runs in
# about 5 minutes once tether is built (6 with --profile; the quiet waits add at
# most 6 more). KEEP_TMP=1 keeps configs, logs and raw wrk output.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
DURATION=10
WARMUP=2
WS_N=5000
PROFILE=0
WS=1
COMMIT=""
while [ $# -gt 0 ]; do
  arg=$1; shift
  case "$arg" in
    --commit) COMMIT=${1:?--commit needs a revision}; shift ;;
    --quick) DURATION=3; WARMUP=1; WS_N=500 ;;
    --profile) PROFILE=1 ;;
    --no-ws) WS=0 ;;
    -h|--help) sed -n '2,41p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done
QUIET_WAIT_MAX=${QUIET_WAIT_MAX:-150}    # seconds one segment may wait for quiet
QUIET_WAIT_BUDGET=${QUIET_WAIT_BUDGET:-360}  # seconds all segments together may wait
RESULTS=${RESULTS:-$BUILD/bench-front-results.md}

log() { printf '[run.sh %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- 1. what we need --------------------------------------------------------
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
NOFILE=$(ulimit -n)  # 65536 where allowed; containers may cap it (20000 is plenty)
[ "$NOFILE" -ge 12000 ] || die "ulimit -n is $NOFILE; 5,000 tunnels need ~12,000 (run as root)"
HA_MAXCONN=$(( (NOFILE - 200) / 2 ))  # HAProxy needs 2 fds per connection

need=()
wanted=(haproxy nginx wrk curl)
[ $PROFILE = 1 ] && ! command -v perf >/dev/null && wanted+=(linux-perf)
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v python3 >/dev/null || die "python3 is needed (free-port helper)"

SRC=$ROOT
TETHER_BUILD=$BUILD
VERSION="working tree of $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(
  git -C "$ROOT" --no-optional-locks diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null \
  || echo ' + local changes')"  # read-only: --no-optional-locks never writes the index
if [ -n "$COMMIT" ]; then
  sha=$(git -C "$ROOT" rev-parse --short "$COMMIT^{commit}") || die "no commit $COMMIT"
  SRC=$BUILD/rev-$sha-src
  TETHER_BUILD=$BUILD/rev-$sha
  VERSION="commit $sha"
  if [ ! -f "$SRC/CMakeLists.txt" ]; then
    mkdir -p "$SRC"
    git -C "$ROOT" archive "$sha" | tar -x -C "$SRC"
  fi
fi
log "building tether (Release, $VERSION) in $TETHER_BUILD"
cmake -S "$SRC" -B "$TETHER_BUILD" -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF >/dev/null
cmake --build "$TETHER_BUILD" -j2 --target tether >/dev/null
cmake -S "$ROOT/bench" -B "$BUILD/bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD/bench" -j2 --target ws_idle >/dev/null
TETHER=$TETHER_BUILD/tether
WS_IDLE=$BUILD/bench/ws_idle

# shellcheck source=bench/front/common.sh
. "$ROOT/bench/front/common.sh"

# --- processes: started here, stopped by PID -------------------------------
bench_tmp front

# start NAME CMD...: runs CMD pinned to core 0 (CPUS=0,1: both), output in $TMP/NAME.log; sets PID.
start() {
  local name=$1; shift
  taskset -c "${CPUS:-0}" "$@" >"$TMP/$name.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
}

# wait_http PORT [PATH]: until 127.0.0.1:PORT answers 200 (10 s at most).
wait_http() {
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1${2:-/}")" = 200 ] && return 0
    sleep 0.1
  done
  die "nothing answers 200 on 127.0.0.1:$1${2:-/}"
}

# wait_line FILE REGEX: prints the first line of FILE matching REGEX (10 s at most).
wait_line() {
  for _ in $(seq 100); do
    local l; l=$(grep -m1 -E "$2" "$1" 2>/dev/null || true)
    [ -n "$l" ] && { echo "$l"; return 0; }
    sleep 0.1
  done
  die "no line matching '$2' in $1: $(tail -3 "$1")"
}

# nginx_worker MASTER_PID: the single worker's PID (a child of the master).
nginx_worker() {
  local w=""
  for _ in $(seq 100); do
    w=$(pgrep -P "$1" | head -1 || true)
    [ -n "$w" ] && { echo "$w"; return 0; }
    sleep 0.1
  done
  die "nginx master $1 has no worker"
}

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }  # utime+stime
sys_ticks() { awk '{ sub(/.*\) /, ""); print $13 }' "/proc/$1/stat"; }        # stime alone
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
CLK_TCK=$(getconf CLK_TCK)

# --- quiet machine -----------------------------------------------------------
QUIET_SPENT=0
cpu_busy_pct() {  # whole-machine busy % over one second
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local idle=$(( (b[4]+b[5]) - (a[4]+a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  [ $total -gt 0 ] || total=1
  echo $(( 100 * (total - idle) / total ))
}
compiler_note() { if pgrep -x cc1plus >/dev/null; then echo ", compiler running"; fi; }
# cpu0_times: core 0's "steal total" ticks from /proc/stat (steal: time the
# hypervisor gave another guest while this one wanted the core).
cpu0_times() { awk '$1 == "cpu0" { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat; }
# steal_pct BEFORE AFTER: core 0's steal share between two cpu0_times readings.
steal_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2];
    printf "%d", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }'
}
# wait_quiet: waits (bounded) for no compiler and <20% busy; sets QUIET to a note.
wait_quiet() {
  local waited=0 busy
  while :; do
    busy=$(cpu_busy_pct)
    if ! pgrep -x cc1plus >/dev/null && [ "$busy" -lt 20 ]; then
      QUIET="yes"; break
    fi
    if [ $waited -ge "$QUIET_WAIT_MAX" ] || [ $QUIET_SPENT -ge "$QUIET_WAIT_BUDGET" ]; then
      QUIET="NO (busy ${busy}%$(compiler_note))"
      log "machine not quiet after ${waited}s: measuring anyway ($QUIET)"
      break
    fi
    if [ $waited -eq 0 ]; then log "waiting for a quiet machine (busy ${busy}%$(compiler_note))"; fi
    sleep 4; waited=$((waited + 5)); QUIET_SPENT=$((QUIET_SPENT + 5))
  done
  if [ $waited -gt 0 ]; then QUIET="$QUIET after ${waited}s wait"; fi
  QUIET="$QUIET, load1 $(cut -d' ' -f1 /proc/loadavg)"
}

# --- 3. the processes -------------------------------------------------------
read -r P_B1 P_B2 P_HA_RR P_HA_CK P_NG <<<"$(free_ports 5)"
BODY=$(printf 'tether-bench backend %074d' 0)  # 95 bytes
[ ${#BODY} -eq 95 ] || die "body is ${#BODY} bytes"
USER_LINE=""; [ "$(id -u)" -eq 0 ] && USER_LINE="user root;"

# nginx_conf DIR HTTP_BLOCK: an nginx config of its own (prefix DIR, 1 worker, foreground).
nginx_conf() {
  mkdir -p "$1/logs"
  cat >"$1/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
$USER_LINE
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections $((NOFILE - 100)); }
http {
  access_log off;
  client_body_temp_path $1/client_body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  keepalive_requests 1000000;
$2
}
EOF
}

log "starting nginx backend on 127.0.0.1:$P_B1 and :$P_B2"
nginx_conf "$TMP/backend" "
  server {
    listen 127.0.0.1:$P_B1 backlog=4096;
    listen 127.0.0.1:$P_B2 backlog=4096;
    location / { default_type text/plain; return 200 \"$BODY\"; }
  }"
start nginx-backend "$NGINX" -p "$TMP/backend" -c "$TMP/backend/nginx.conf" -e "$TMP/backend/logs/error.log"
BACKEND_WORKER=$(nginx_worker "$PID")
wait_http "$P_B1"; wait_http "$P_B2"
len=$(curl -s "http://127.0.0.1:$P_B1/" | wc -c)
[ "$len" -eq 95 ] || die "backend body is $len bytes, expected 95"

# The global and defaults sections shared by every HAProxy config here.
haproxy_head() { haproxy_head_common "${1:-1}" "$HA_MAXCONN"; }  # haproxy_head [THREADS]

# haproxy_cookie PORT: a frontend on PORT inserting the SERVERID cookie.
haproxy_cookie() {
  printf 'frontend fe_ck\n  bind 127.0.0.1:%s\n  default_backend be_ck\n' "$1"
  haproxy_cookie_backend be_ck "$P_B1" "$P_B2"
}

log "starting HAProxy on :$P_HA_RR (roundrobin) and :$P_HA_CK (cookie SERVERID)"
{ haproxy_head; cat <<EOF
frontend fe_rr
  bind 127.0.0.1:$P_HA_RR
  default_backend be_rr
backend be_rr
  balance roundrobin
  server b1 127.0.0.1:$P_B1
  server b2 127.0.0.1:$P_B2
EOF
  haproxy_cookie "$P_HA_CK"
} >"$TMP/haproxy.cfg"
start haproxy "$HAPROXY" -db -f "$TMP/haproxy.cfg"
HAPROXY_PID=$PID
wait_http "$P_HA_RR"; wait_http "$P_HA_CK"

log "starting nginx proxy on :$P_NG"
nginx_conf "$TMP/proxy" "
  upstream backends {
    server 127.0.0.1:$P_B1;
    server 127.0.0.1:$P_B2;
    keepalive 512;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$P_NG backlog=4096;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }"
start nginx-proxy "$NGINX" -p "$TMP/proxy" -c "$TMP/proxy/nginx.conf" -e "$TMP/proxy/logs/error.log"
NGINX_PROXY_WORKER=$(nginx_worker "$PID")
wait_http "$P_NG"

# tether front, 1 thread, round-robin over the same two backends (ids b1, b2).
start_front() {  # start_front NAME ARGS...: sets FRONT_PID and FRONT_PORT
  local name=$1; shift
  start "$name" "$TETHER" front --listen 127.0.0.1 --port 0 --threads "${FRONT_THREADS:-1}" \
    --log-level warn "$@"
  FRONT_PID=$PID
  FRONT_PORT=$(wait_line "$TMP/$name.log" 'listening on' | sed -E 's/.*:([0-9]+) with.*/\1/')
  sleep 0.2  # the admin line (if any) follows the listening line
  ADMIN_OF[$FRONT_PID]=$(sed -nE 's#^tether front: admin http://([^/]+)/.*#\1#p' "$TMP/$name.log" | head -1)
}
declare -A ADMIN_OF
# upstream_connects PID: tether's counter of new instance connections ("" without an admin endpoint).
upstream_connects() {
  local a=${ADMIN_OF[$1]:-}
  [ -n "$a" ] || return 0
  curl -s --max-time 2 "http://$a/metrics" | awk '/^tether_front_upstream_connects_total / { print $2 }'
}
start_front tether-front --balancing round-robin \
  --instance "b1=127.0.0.1:$P_B1" --instance "b2=127.0.0.1:$P_B2"
TF_PID=$FRONT_PID; TF_PORT=$FRONT_PORT
start_front tether-front-noaff --balancing round-robin --affinity off \
  --instance "b1=127.0.0.1:$P_B1" --instance "b2=127.0.0.1:$P_B2"
TFN_PID=$FRONT_PID; TFN_PORT=$FRONT_PORT
wait_http "$TF_PORT"; wait_http "$TFN_PORT"
log "tether front on :$TF_PORT (affinity on), :$TFN_PORT (affinity off)"

# Sanity: the cookie rows really do what they say.
hdrs() { curl -s -o /dev/null -D - "$@" | tr -d '\r'; }
h=$(hdrs "http://127.0.0.1:$TF_PORT/")
grep -qi '^Set-Cookie: ARRAffinity=b[12]' <<<"$h" || die "tether front sets no ARRAffinity cookie: $h"
h=$(hdrs -H 'Cookie: ARRAffinity=b1' "http://127.0.0.1:$TF_PORT/")
grep -qi '^Set-Cookie:' <<<"$h" && die "tether front sets a cookie although ARRAffinity=b1 was sent: $h"
h=$(hdrs "http://127.0.0.1:$P_HA_CK/")
grep -qi '^set-cookie: SERVERID=b[12]' <<<"$h" || die "HAProxy sets no SERVERID cookie: $h"
h=$(hdrs -H 'Cookie: SERVERID=b1' "http://127.0.0.1:$P_HA_CK/")
grep -qi '^set-cookie:' <<<"$h" && die "HAProxy sets a cookie although SERVERID=b1 was sent: $h"
h=$(hdrs "http://127.0.0.1:$TFN_PORT/")
grep -qi '^Set-Cookie:' <<<"$h" && die "tether --affinity off sets a cookie: $h"

# --- 4. HTTP rows -------------------------------------------------------------
# to_us VALUE: wrk latency (e.g. 1.42ms, 870.00us, 1.01s) in whole microseconds.
to_us() {
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") f = 1; else if (u == "ms") f = 1000; else if (u == "s") f = 1e6;
    else if (u == "m") f = 6e7; else f = -1;
    if (f < 0) print "?"; else printf "%d", n * f + 0.5 }'
}

ROWS=()  # "key|label|conns|rps|p50|p99|cpu|backend_cpu|errors|quiet|upc|sys"
# run_row KEY LABEL CONNS PORT PROXY_PID [wrk args...]
run_row() {
  local key=$1 label=$2 conns=$3 port=$4 pid=$5; shift 5
  wait_quiet
  log "$label, $conns connections ($QUIET)"
  taskset -c "$WRK_CPUS" wrk -t"$WRK_T" -c"$conns" -d"${WARMUP}s" "$@" "http://127.0.0.1:$port/" >/dev/null
  local t0 b0 t1 b1 s0 s1 out u0="" u1=""
  [ "$pid" = - ] || u0=$(upstream_connects "$pid")  # read outside the CPU window
  t0=$([ "$pid" = - ] || cpu_ticks "$pid"); b0=$(cpu_ticks "$BACKEND_WORKER")
  s0=$([ "$pid" = - ] || sys_ticks "$pid")
  local c0 c1; c0=$(cpu0_times)
  out=$(taskset -c "$WRK_CPUS" timeout $((DURATION + 20)) wrk -t"$WRK_T" -c"$conns" -d"${DURATION}s" --latency "$@" \
        "http://127.0.0.1:$port/")
  c1=$(cpu0_times)
  t1=$([ "$pid" = - ] || cpu_ticks "$pid"); b1=$(cpu_ticks "$BACKEND_WORKER")
  s1=$([ "$pid" = - ] || sys_ticks "$pid")
  [ "$pid" = - ] || u1=$(upstream_connects "$pid")
  echo "$out" >"$TMP/wrk-$key-$conns.txt"
  local reqs rps p50 p99 errs cpu bcpu
  reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 + 0.5 }' <<<"$out")
  p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  errs=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
              END { print n + 0 }' <<<"$out")
  [ -n "$reqs" ] && [ "$reqs" -gt 0 ] || die "wrk made no requests for $label: $out"
  cpu=-; [ "$pid" = - ] || cpu=$(awk -v d=$((t1 - t0)) -v r="$reqs" -v hz="$CLK_TCK" \
                               'BEGIN { printf "%.1f", d / hz * 1e6 / r }')
  local sys=-  # the kernel's part of the proxy's CPU (stime), µs per request
  [ "$pid" = - ] || sys=$(awk -v d=$((s1 - s0)) -v r="$reqs" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", d / hz * 1e6 / r }')
  bcpu=$(awk -v d=$((b1 - b0)) -v r="$reqs" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", d / hz * 1e6 / r }')
  local upc=-  # new upstream connections per 1,000 requests (tether only: from its admin /metrics)
  if [ -n "$u0" ] && [ -n "$u1" ]; then
    upc=$(awk -v a="$u0" -v b="$u1" -v r="$reqs" 'BEGIN { printf "%.1f", (b - a) * 1000 / r }')
  fi
  # A virtual machine's host may take the core meanwhile: said in the row.
  ROWS+=("$key|$label|$conns|$rps|$p50|$p99|$cpu|$bcpu|$errs|$QUIET, core 0 stolen $(steal_pct "$c0" "$c1") %|$upc|$sys")
  log "  -> $rps req/s, p50 $p50 us, p99 $p99 us, proxy $cpu us/req ($sys in the kernel), backend $bcpu us/req, errors $errs, upstream connects/1k $upc"
}

CK_TF=(-H 'Cookie: ARRAffinity=b1')
CK_HA=(-H 'Cookie: SERVERID=b1')
WRK_CPUS=0; WRK_T=1
for c in 50 200; do
  run_row direct       "direct to backend"                                   $c "$P_B1" -
  run_row ha_rr        "HAProxy, roundrobin, nbthread 1"                     $c "$P_HA_RR" "$HAPROXY_PID"
  run_row ha_ck_new    "HAProxy, cookie insert, no cookie sent"              $c "$P_HA_CK" "$HAPROXY_PID"
  run_row ha_ck_sent   "HAProxy, cookie sent (affinity routing)"             $c "$P_HA_CK" "$HAPROXY_PID" "${CK_HA[@]}"
  run_row nginx        "nginx proxy, upstream keepalive, 1 worker"           $c "$P_NG" "$NGINX_PROXY_WORKER"
  run_row tf_off       "tether front, affinity off, round-robin"             $c "$TFN_PORT" "$TFN_PID"
  run_row tf_new       "tether front, no cookie sent (sets ARRAffinity)"     $c "$TF_PORT" "$TF_PID"
  run_row tf_sent      "tether front, ARRAffinity cookie sent"               $c "$TF_PORT" "$TF_PID" "${CK_TF[@]}"
done

# Two threads: tether --threads 2 beside HAProxy nbthread 2, the proxies and
# wrk (-t2) on both cores (the backend stays on core 0), cookie rows only.
read -r P_HA2 <<<"$(free_ports 1)"
log "starting HAProxy nbthread 2 on :$P_HA2 and tether front --threads 2 (both cores)"
{ haproxy_head 2; haproxy_cookie "$P_HA2"; } >"$TMP/haproxy2.cfg"
CPUS=0,1 start haproxy2 "$HAPROXY" -db -f "$TMP/haproxy2.cfg"
HAPROXY2_PID=$PID
CPUS=0,1 FRONT_THREADS=2 start_front tether-front2 --balancing round-robin \
  --instance "b1=127.0.0.1:$P_B1" --instance "b2=127.0.0.1:$P_B2"
TF2_PID=$FRONT_PID; TF2_PORT=$FRONT_PORT
wait_http "$P_HA2"; wait_http "$TF2_PORT"
WRK_CPUS=0,1; WRK_T=2
for c in 50 200; do
  run_row ha2_ck_new  "HAProxy nbthread 2, cookie insert, no cookie sent"   $c "$P_HA2" "$HAPROXY2_PID"
  run_row ha2_ck_sent "HAProxy nbthread 2, cookie sent"                    $c "$P_HA2" "$HAPROXY2_PID" "${CK_HA[@]}"
  run_row tf2_new     "tether front --threads 2, no cookie sent"            $c "$TF2_PORT" "$TF2_PID"
  run_row tf2_sent    "tether front --threads 2, ARRAffinity cookie sent"   $c "$TF2_PORT" "$TF2_PID" "${CK_TF[@]}"
done
WRK_CPUS=0; WRK_T=1

# --- profile (optional) --------------------------------------------------------
# shorten: perf report lines with C++ template arguments and parameter lists removed.
shorten() {
  python3 -c 'import re,sys
for l in sys.stdin:
    out, d = "", 0
    for ch in l.rstrip():
        if ch == "<": d += 1
        if d == 0: out += ch
        if ch == ">" and d: d -= 1
    out = re.sub(r"\([^()]*\)", "()", out)
    out = re.sub(r"(\s+-)+\s*$", "", out)  # empty trailing columns of perf
    print(re.sub(r"\s+", " ", out).strip()[:150])'
}
# syscalls_per_request LABEL PORT PID [wrk args]: kernel entries and context switches of PID
# per request over one wrk -c50 run (needs perf and syscall tracepoints).
syscalls_per_request() {
  local label=$1 port=$2 pid=$3; shift 3
  # The total counts every system call (raw_syscalls), the kinds only those named.
  local d=5 ev="context-switches,raw_syscalls:sys_enter" s
  for s in sendmsg recvmsg sendto recvfrom read write readv writev epoll_wait epoll_ctl \
           timerfd_settime io_uring_enter ioctl fcntl setsockopt getrandom; do
    ev="$ev,syscalls:sys_enter_$s"
  done
  perf stat -x, -e "$ev" -p "$pid" -o "$TMP/stat-$port.txt" -- sleep $((d + 1)) 2>/dev/null &
  local stat_pid=$!; PIDS+=("$stat_pid")
  sleep 0.5
  local out; out=$(taskset -c 0 wrk -t1 -c50 -d${d}s "$@" "http://127.0.0.1:$port/")
  wait "$stat_pid" || { log "perf stat failed (no syscall tracepoints?)"; return 0; }
  local reqs; reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  awk -F, -v r="$reqs" -v label="$label" '
    /^[0-9]/ { if ($3 == "raw_syscalls:sys_enter") { t = $1; next }
               n = $3; sub(/^syscalls:sys_enter_/, "", n); if ($1 > 0) s = s sprintf(" %s %.2f", n, $1 / r) }
    END { printf "| %s | %.2f |%s |\n", label, t / r, s }' "$TMP/stat-$port.txt"
}
PROFILE_MD=""
if [ $PROFILE = 1 ]; then
  if command -v perf >/dev/null && perf record -q -e cpu-clock -o /dev/null -- true 2>/dev/null; then
    wait_quiet
    log "profile: syscalls per request ($QUIET)"
    SYSCALLS_MD=$(
      echo "| proxy (50 connections, no cookie) | syscalls per request | by kind, and context switches, per request |"
      echo "|---|---|---|"
      syscalls_per_request "tether front" "$TF_PORT" "$TF_PID"
      syscalls_per_request "HAProxy (cookie insert)" "$P_HA_CK" "$HAPROXY_PID"
      syscalls_per_request "nginx proxy" "$P_NG" "$NGINX_PROXY_WORKER")
    echo "$SYSCALLS_MD" >&2
    wait_quiet
    log "profile: perf record of tether front (no cookie sent, 50 connections), cpu-clock ($QUIET)"
    taskset -c 0 wrk -t1 -c50 -d8s "http://127.0.0.1:$TF_PORT/" >/dev/null &
    WRK_PID=$!; PIDS+=("$WRK_PID")
    sleep 1
    perf record -q -e cpu-clock -F 1000 --call-graph dwarf,16384 -p "$TF_PID" -o "$TMP/perf.data" \
      -- sleep 5 2>/dev/null || log "perf record failed"
    log "profile: perf record of HAProxy (cookie insert, 50 connections), for the user/kernel split"
    wait "$WRK_PID" || true
    taskset -c 0 wrk -t1 -c50 -d7s "http://127.0.0.1:$P_HA_CK/" >/dev/null &
    WRK_PID=$!; PIDS+=("$WRK_PID")
    sleep 1
    perf record -q -e cpu-clock -F 1000 -p "$HAPROXY_PID" -o "$TMP/perf-haproxy.data" -- sleep 5 \
      2>/dev/null || log "perf record failed"
    wait "$WRK_PID" || true
    log "profile: reporting (takes a minute)"
    P="$BUILD/bench-front-profile"
    perf report -i "$TMP/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
      | grep -E '^ +[0-9]' | shorten >"$P-dso.txt" || true
    perf report -i "$TMP/perf-haproxy.data" --no-children --sort dso --stdio -g none 2>/dev/null \
      | grep -E '^ +[0-9]' | shorten >"$P-haproxy-dso.txt" || true
    perf report -i "$TMP/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
      | grep -E '^ +[0-9]' | shorten | head -40 >"$P-self.txt" || true
    perf report -i "$TMP/perf.data" --children --sort symbol --stdio -g none 2>/dev/null \
      | grep -E '^ +[0-9]' | shorten >"$P-children-all.txt" || true
    grep -E 'tether::|malloc|free|__libc_(send|recv)msg|recvfrom|clock_gettime|timer|any_io_executor|basic_parser|serializer|finish_task_switch|epoll_wait' \
      "$P-children-all.txt" | head -50 >"$P-children.txt" || true
    PROFILE_MD=$(
      echo "tether front: share of samples by binary: $(tr '\n' ';' <"$P-dso.txt")"
      echo "HAProxy: share of samples by binary: $(tr '\n' ';' <"$P-haproxy-dso.txt")"
      echo
      echo "tether front, top self time (perf report --no-children), first 25:"
      echo '```'; head -25 "$P-self.txt"; echo '```'
      echo
      echo "tether front, inclusive time (children) of tether functions and named costs:"
      echo '```'; cat "$P-children.txt"; echo '```'
      echo
      echo "$SYSCALLS_MD")
    log "profile written to $P-*.txt"
  else
    log "perf is not usable here: no profile"
  fi
fi

# --- 5. idle WebSocket tunnels --------------------------------------------------
WS_ROWS=()  # "label|opened|before|after|kb_per_tunnel|quiet"
if [ $WS = 1 ]; then
  start tether-serve "$TETHER" serve --listen 127.0.0.1 --port 0 --instance-id ws1 --log-level warn
  WS_PORT=$(wait_line "$TMP/tether-serve.log" 'listening on' | sed -E 's/.*:([0-9]+)$/\1/')
  read -r P_HA_WS P_NG_WS <<<"$(free_ports 2)"

  # ws_row LABEL PORT PID: N idle tunnels through the proxy at PORT (process PID).
  ws_row() {
    local label=$1 port=$2 pid=$3
    wait_quiet
    log "$WS_N idle WebSocket tunnels through $label ($QUIET)"
    local before after fifo="$TMP/ws-$port.in" out="$TMP/ws-$port.out"
    sleep 1
    before=$(rss_kb "$pid")
    mkfifo "$fifo"
    taskset -c 0 "$WS_IDLE" 127.0.0.1 "$port" "$WS_N" --path /ws --timeout 120 <"$fifo" >"$out" 2>&1 &
    local ws_pid=$!; PIDS+=("$ws_pid")
    exec 7>"$fifo"
    local ready; ready=$(wait_line_long "$out" '^ready ' 150)
    sleep 2  # let both ends settle (the first frame crosses every tunnel)
    echo count >&7
    local open; open=$(wait_line "$out" '^open ')
    after=$(rss_kb "$pid")
    exec 7>&-  # EOF: ws_idle closes everything and exits
    wait "$ws_pid" 2>/dev/null || true
    local opened=${ready#ready }
    if grep -q '^failed' "$out"; then log "  $(grep '^failed' "$out")"; fi
    local per; per=$(awk -v a="$after" -v b="$before" -v n="$opened" \
                       'BEGIN { if (n > 0) printf "%.2f", (a - b) / n; else print "-" }')
    WS_ROWS+=("$label|$opened ($open)|$before|$after|$per|$QUIET")
    log "  -> RSS $before -> $after kB, $per KB per tunnel ($open)"
  }
  wait_line_long() {  # FILE REGEX SECONDS
    for _ in $(seq $(( $3 * 10 ))); do
      local l; l=$(grep -m1 -E "$2" "$1" 2>/dev/null || true)
      [ -n "$l" ] && { echo "$l"; return 0; }
      sleep 0.1
    done
    die "no line matching '$2' in $1 after $3 s: $(tail -3 "$1")"
  }

  # Fresh proxy processes, used for nothing else.
  start_front tether-front-ws --instance "ws1=127.0.0.1:$WS_PORT"
  TW_PID=$FRONT_PID; TW_PORT=$FRONT_PORT
  { haproxy_head; cat <<EOF
frontend fe_ws
  bind 127.0.0.1:$P_HA_WS
  default_backend be_ws
backend be_ws
  server ws1 127.0.0.1:$WS_PORT
EOF
  } >"$TMP/haproxy-ws.cfg"
  start haproxy-ws "$HAPROXY" -db -f "$TMP/haproxy-ws.cfg"
  HW_PID=$PID
  nginx_conf "$TMP/proxy-ws" "
  upstream ws { server 127.0.0.1:$WS_PORT; }
  server {
    listen 127.0.0.1:$P_NG_WS backlog=4096;
    location / {
      proxy_pass http://ws;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \"upgrade\";
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }"
  start nginx-proxy-ws "$NGINX" -p "$TMP/proxy-ws" -c "$TMP/proxy-ws/nginx.conf" -e "$TMP/proxy-ws/logs/error.log"
  NW_PID=$(nginx_worker "$PID")
  for p in "$TW_PORT" "$P_HA_WS" "$P_NG_WS"; do  # each answers a plain GET /ws with 426
    for _ in $(seq 100); do
      [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/ws")" = 426 ] && break
      sleep 0.1
    done
  done

  ws_row "tether front (--threads 1)" "$TW_PORT" "$TW_PID"
  ws_row "HAProxy 2.6 (nbthread 1, timeout tunnel 1h)" "$P_HA_WS" "$HW_PID"
  ws_row "nginx 1.22 (1 worker)" "$P_NG_WS" "$NW_PID"
fi

# --- 6. tables -----------------------------------------------------------------
declare -A RPS CPU P99
for r in "${ROWS[@]}"; do
  IFS='|' read -r key label conns rps p50 p99 cpu bcpu errs quiet upc sys <<<"$r"
  RPS[$key-$conns]=$rps; CPU[$key-$conns]=$cpu; P99[$key-$conns]=$p99
done
base_of() {  # the HAProxy row of the same kind
  case $1 in
    tf_new) echo ha_ck_new ;; tf_sent) echo ha_ck_sent ;; ha_ck_new|ha_ck_sent) echo "$1" ;;
    tf2_new) echo ha2_ck_new ;; tf2_sent) echo ha2_ck_sent ;; ha2_ck_new|ha2_ck_sent) echo "$1" ;;
    *) echo ha_rr ;;
  esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
commas() { printf "%'d" "$1" 2>/dev/null || echo "$1"; }
{
  echo "## tether front beside HAProxy and nginx ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, everything on core 0)"
  echo
  echo "wrk -t1 -d${DURATION}s --latency; backend: nginx, 1 worker, return 200 with a 95-byte body, two ports."
  echo "Ratios are to the HAProxy row of the same kind and connection count (cookie rows to the"
  echo "cookie rows, the rest to roundrobin). CPU = proxy utime+stime per request."
  echo
  echo "| path (all on core 0; \"2\" rows: proxy and wrk -t2 on both cores) | conns | req/s | p50 / p99 µs | req/s ratio to HAProxy | proxy CPU µs/req | of which kernel | CPU ratio to HAProxy | backend CPU µs/req | new upstream conns per 1k req | errors | quiet |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for r in "${ROWS[@]}"; do
    IFS='|' read -r key label conns rps p50 p99 cpu bcpu errs quiet upc sys <<<"$r"
    b=$(base_of "$key")
    echo "| $label | $conns | $(commas "$rps") | $p50 / $p99 | $(ratio "$rps" "${RPS[$b-$conns]}") | $cpu | $sys | $(ratio "$cpu" "${CPU[$b-$conns]}") | $bcpu | $upc | $errs | $quiet |"
  done
  echo
  echo "The kernel's floor (one-core rows): HAProxy's own kernel time per request is what a proxy"
  echo "making HAProxy's system calls spends before any code of its own. With the core shared, the"
  echo "rest of each request's core time (wrk, backend, idle) is 1e6 / req/s - proxy CPU; a proxy"
  echo "costing only that kernel time would reach at most (rest + HAProxy CPU) / (rest + kernel)"
  echo "times HAProxy's req/s."
  echo
  for r in "${ROWS[@]}"; do
    IFS='|' read -r key label conns rps p50 p99 cpu bcpu errs quiet upc sys <<<"$r"
    case $key in ha_ck_new|ha_ck_sent) ;; *) continue ;; esac
    awk -v l="$label" -v c="$conns" -v rps="$rps" -v cpu="$cpu" -v k="$sys" 'BEGIN {
      if (cpu == "-" || k == "-" || cpu <= 0) exit
      rest = 1e6 / rps - cpu
      printf "- %s, %s conns: kernel %.1f of %.1f µs/req (%.0f %%): CPU ratio floor %.2f, req/s ratio ceiling %.2f\n",
             l, c, k, cpu, 100 * k / cpu, k / cpu, (rest + cpu) / (rest + k) }'
  done
  if [ ${#WS_ROWS[@]} -gt 0 ]; then
    echo
    echo "Idle WebSocket tunnels: $WS_N through each fresh proxy to \`tether serve\` /ws; VmRSS of the proxy process."
    echo
    echo "| proxy | tunnels open | RSS before kB | RSS after kB | KB per tunnel | quiet |"
    echo "|---|---|---|---|---|---|"
    for r in "${WS_ROWS[@]}"; do
      IFS='|' read -r label opened before after per quiet <<<"$r"
      echo "| $label | $opened | $before | $after | $per | $quiet |"
    done
  fi
  echo
  echo "Targets (issue 15: tether's cookie rows against HAProxy's of the same kind; tunnels against 2.2 KB):"
  echo
  for r in "${ROWS[@]}"; do
    IFS='|' read -r key label conns rps p50 p99 cpu bcpu errs quiet upc sys <<<"$r"
    case $key in tf_new|tf_sent|tf2_*) ;; *) continue ;; esac
    b=$(base_of "$key"); rr=$(ratio "$rps" "${RPS[$b-$conns]}"); cr=$(ratio "$cpu" "${CPU[$b-$conns]}")
    bp99=${P99[$b-$conns]}
    echo "- $label, $conns conns: req/s ratio $rr ($(awk -v x="$rr" 'BEGIN { print (x >= 1.2 ? "met" : "MISSED") }')," \
         "target >= 1.20), CPU ratio $cr ($(awk -v x="$cr" 'BEGIN { print (x <= 0.8 ? "met" : "MISSED") }'), target <= 0.80)," \
         "p99 $p99 µs against $bp99 ($(awk -v a="$p99" -v b="$bp99" 'BEGIN { print (a + 0 <= b + 0 ? "met" : "MISSED") }'))"
  done
  for r in "${WS_ROWS[@]}"; do
    IFS='|' read -r label opened before after per quiet <<<"$r"
    case $label in tether*) echo "- idle tunnel: $per KB ($(awk -v x="$per" 'BEGIN { print (x <= 2.2 ? "met" : "MISSED") }'), target <= 2.2 KB)" ;; esac
  done
  if [ -n "$PROFILE_MD" ]; then
    echo
    echo "Profile (--profile):"
    echo
    echo "$PROFILE_MD"
  fi
  echo
  echo "Versions: $("$HAPROXY" -v | head -1 | cut -d' ' -f1-3); $("$NGINX" -v 2>&1 | cut -d' ' -f3);" \
       "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); tether $VERSION" \
       "(Release, $TETHER_BUILD). CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')."
} | tee "$RESULTS"
log "results written to $RESULTS"
