#!/usr/bin/env bash
# bench/front/instructions.sh: user-space instructions per request of tether
# front beside HAProxy 2.6, counted by valgrind's callgrind (issue 15, part 1).
#
# Why: the one-core timing runs (run.sh, h2.sh) move with whatever else the
# machine's host runs (steal time); an instruction count does not. It counts
# the proxy's own code (and its libraries), not the kernel's: run.sh's
# "of which kernel" column and its syscall counts are the other half.
#
# What it does: one nginx backend (1 worker, two ports, `return 200` with a
# 95-byte body), then for each proxy in turn (tether front --threads 1;
# HAProxy nbthread 1 with `cookie SERVERID insert indirect nocache`) under
# `valgrind --tool=callgrind`: a warm-up of 500 requests, the counters
# zeroed, N requests (default 4,000) by h2load, the counters dumped. Rows:
# HTTP/1.1 (h2load --h1 -c 10, no pipelining) without and with the affinity
# cookie, and h2c (h2load -c 10 -m 10). Prints a Markdown table of
# instructions per request and the ratio to HAProxy's.
# Usage: bench/front/instructions.sh [N]   (TETHER_BINARY=path to choose the binary;
#        default build-bench/tether, built Release if missing)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${1:-4000}
TETHER=${TETHER_BINARY:-$ROOT/build-bench/tether}
log() { printf '[instructions.sh %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

need=()
for c in valgrind haproxy nginx h2load curl; do
  command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || need+=("$c")
done
if [ ${#need[@]} -gt 0 ]; then
  pkgs=()
  for c in "${need[@]}"; do [ "$c" = h2load ] && pkgs+=(nghttp2-client) || pkgs+=("$c"); done
  log "installing ${pkgs[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
if [ ! -x "$TETHER" ]; then
  log "building tether (Release) in $ROOT/build-bench"
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF >/dev/null
  cmake --build "$ROOT/build-bench" -j2 --target tether >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
ulimit -n 20000 2>/dev/null || true

# shellcheck source=bench/front/common.sh
. "$ROOT/bench/front/common.sh"
bench_tmp instr

wait_http() {  # wait_http PORT [h2load args]: until it answers (60 s at most: valgrind starts slowly)
  local port=$1; shift
  for _ in $(seq 600); do
    h2load -n 1 -c 1 "$@" "http://127.0.0.1:$port/" 2>/dev/null | grep -q "1 succeeded" && return 0
    sleep 0.1
  done
  die "nothing answers on 127.0.0.1:$port"
}
read -r P_B1 P_B2 P_PROXY <<<"$(free_ports 3)"

BODY=$(head -c 95 /dev/zero | tr '\0' x)
mkdir -p "$TMP/backend/logs"
cat >"$TMP/backend/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
pid $TMP/backend/nginx.pid;
error_log $TMP/backend/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/backend/cb;
  proxy_temp_path $TMP/backend/p;
  fastcgi_temp_path $TMP/backend/f;
  uwsgi_temp_path $TMP/backend/u;
  scgi_temp_path $TMP/backend/s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$P_B1;
    listen 127.0.0.1:$P_B2;
    location / { default_type text/plain; return 200 "$BODY"; }
  }
}
EOF
"$NGINX" -p "$TMP/backend" -c "$TMP/backend/nginx.conf" -e "$TMP/backend/logs/error.log" \
  >"$TMP/nginx.log" 2>&1 &
PIDS+=($!)
wait_http "$P_B1" --h1

# haproxy_cfg [BIND OPTIONS]: HAProxy's config, its frontend bound with the options.
haproxy_cfg() {
  haproxy_head_common 1 1000 >"$TMP/haproxy.cfg"
  cat >>"$TMP/haproxy.cfg" <<EOF
frontend fe
  bind 127.0.0.1:$P_PROXY $*
  default_backend be
EOF
  haproxy_cookie_backend be "$P_B1" "$P_B2" >>"$TMP/haproxy.cfg"
}

# count NAME PID PORT [h2load args]: instructions per request of PID
# (under callgrind) over N requests.
count() {
  local name=$1 pid=$2 port=$3; shift 3
  h2load -n 500 -c 10 "$@" "http://127.0.0.1:$port/" >/dev/null 2>&1
  callgrind_control -z "$pid" >/dev/null 2>&1
  local out; out=$(h2load -n "$N" -c 10 "$@" "http://127.0.0.1:$port/" 2>&1)
  grep -q "$N succeeded" <<<"$out" || die "$name: h2load said: $out"
  callgrind_control -d "$pid" >/dev/null 2>&1
  local total=0
  for _ in $(seq 100); do
    total=$(cat "$TMP"/cg.out.* 2>/dev/null | awk '/^(totals|summary):/ { if ($2 > m) m = $2 } END { print m + 0 }')
    [ "$total" -gt 0 ] && break
    sleep 0.1
  done
  rm -f "$TMP"/cg.out.*
  echo $((total / N))
}

# run_proxy NAME CMD...: starts CMD under callgrind on P_PROXY; sets VPID.
run_proxy() {
  local name=$1; shift
  rm -f "$TMP"/cg.out.*
  # glibc's tcache as tether sets it for itself outside valgrind (docs/front-door.md,
  # "Memory allocator"); HAProxy gets the same.
  GLIBC_TUNABLES=glibc.malloc.tcache_count=64 valgrind --tool=callgrind \
    --callgrind-out-file="$TMP/cg.out.%p" "$@" >"$TMP/$name.log" 2>&1 &
  VPID=$!
  PIDS+=("$VPID")
}
stop_proxy() { kill -TERM "$VPID" 2>/dev/null; wait "$VPID" 2>/dev/null || true; rm -f "$TMP"/cg.out.*; }

declare -A IR
log "tether front under callgrind ($TETHER)"
run_proxy tether "$TETHER" front --listen 127.0.0.1 --port "$P_PROXY" --threads 1 --log-level warn \
  --instance "b1=127.0.0.1:$P_B1" --instance "b2=127.0.0.1:$P_B2"
wait_http "$P_PROXY" --h1
IR[t_h1]=$(count "tether, HTTP/1.1" "$VPID" "$P_PROXY" --h1)
IR[t_h1c]=$(count "tether, HTTP/1.1, cookie" "$VPID" "$P_PROXY" --h1 -H "Cookie: ARRAffinity=b1")
IR[t_h2]=$(count "tether, h2c" "$VPID" "$P_PROXY" -m 10)
stop_proxy

log "HAProxy under callgrind"
haproxy_cfg
run_proxy haproxy "$HAPROXY" -db -f "$TMP/haproxy.cfg"
wait_http "$P_PROXY" --h1
IR[h_h1]=$(count "HAProxy, HTTP/1.1" "$VPID" "$P_PROXY" --h1)
IR[h_h1c]=$(count "HAProxy, HTTP/1.1, cookie" "$VPID" "$P_PROXY" --h1 -H "Cookie: SERVERID=b1")
stop_proxy
haproxy_cfg proto h2
run_proxy haproxy-h2 "$HAPROXY" -db -f "$TMP/haproxy.cfg"
wait_http "$P_PROXY"
IR[h_h2]=$(count "HAProxy, h2c" "$VPID" "$P_PROXY" -m 10)
stop_proxy

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "## User-space instructions per request ($(date -u '+%Y-%m-%d %H:%M UTC'), tether $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo
echo "valgrind --tool=callgrind, $N requests by h2load -c 10 after 500 of warm-up; backend: nginx, 95-byte body."
echo
echo "| path | tether | HAProxy 2.6 | tether / HAProxy |"
echo "|---|---|---|---|"
echo "| HTTP/1.1, no cookie sent (tether sets ARRAffinity, HAProxy inserts SERVERID) | ${IR[t_h1]} | ${IR[h_h1]} | $(ratio "${IR[t_h1]}" "${IR[h_h1]}") |"
echo "| HTTP/1.1, affinity cookie sent | ${IR[t_h1c]} | ${IR[h_h1c]} | $(ratio "${IR[t_h1c]}" "${IR[h_h1c]}") |"
echo "| h2c, 10 streams per connection (-m 10) | ${IR[t_h2]} | ${IR[h_h2]} | $(ratio "${IR[t_h2]}" "${IR[h_h2]}") |"
