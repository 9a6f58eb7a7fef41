#!/usr/bin/env bash
# bench/store/run.sh: the store app's requests/s with seed 002's first and
# last configurations, in one run (issue 5, item 7):
#   affinity on  + in-memory sessions   (`tether up --app store`)
#   affinity off + Redis sessions       (`--disable-affinity --session-store <redis.sock>`)
# Results: docs/benchmarks.md.
#
#   bench/store/run.sh [--rounds N] [--duration S] [--connections C] [--users U]
#
# Each round runs both configurations back to back (A B A B ...), each on a
# fresh 3-instance plan (least-requests balancing, a fresh SQLite catalog/cart
# database in WAL mode shared by the instances, redis-server on a unix
# socket, no persistence). prepare.mjs first creates U shoppers (one
# AddToCart each); then `wrk -t1 -cC -dS --latency -s mix.lua` replays their
# cookies: 1/3 album page, 1/3 AddToCart, 1/3 cart page. Reported: req/s,
# p50/p99 latency, non-2xx/3xx responses, how requests spread over the
# instances (front door counters), and load1 at the start (the machine is
# shared: compare the two rows of one round).
#
# tether: $TETHER_BINARY, else build-bench/tether (built Release like
# bench/front/run.sh when missing). Needs wrk, redis-server and node. Every
# process is started here and stopped by its PID; only ports the OS picks on
# 127.0.0.1 are used.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=2 duration=10 connections=50 users=200
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --users) users="$2"; shift 2 ;;
    *) sed -n '2,24p' "$0" >&2; exit 2 ;;
  esac
done
for tool in wrk redis-server node; do
  command -v "$tool" >/dev/null || { echo "bench/store: $tool is missing (apt-get install wrk redis-server nodejs)" >&2; exit 1; }
done
tether="${TETHER_BINARY:-build-bench/tether}"
if [ ! -x "$tether" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j2 --target tether
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tether-bench-store.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_for() {  # polls "$@" every 50 ms, up to 60 s
  for _ in $(seq 1200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "bench/store: timed out waiting for: $*" >&2; return 1
}

redis-server --port 0 --unixsocket "$tmp/redis.sock" --save '' --appendonly no \
  --dir "$tmp" --logfile "$tmp/redis.log" &
pids+=($!)
wait_for redis-cli -s "$tmp/redis.sock" ping

# Per-instance request counters of a plan, "a/b/c" in percent of the total.
spread() {
  curl -s "http://127.0.0.1:$1/status" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const n = JSON.parse(s).front.instances.map((i) => i.requests);
      const t = n.reduce((a, b) => a + b, 0) || 1;
      console.log(n.map((x) => Math.round((100 * x) / t) + "%").join(" / "));
    });'
}
instances_up() {
  curl -s "http://127.0.0.1:$1/status" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      process.exit(JSON.parse(s).front.instances.filter((i) => i.state === "up").length === 3 ? 0 : 1);
    });'
}

echo "| configuration | round | req/s | p50 / p99 ms | non-2xx/3xx | spread over 3 instances | load1 at start |"
echo "|---|---|---|---|---|---|---|"
n=0
for round in $(seq "$rounds"); do
  for config in "affinity on + memory sessions" "affinity off + Redis sessions"; do
    n=$((n + 1))
    dir="$tmp/run-$n"
    mkdir -p "$dir"
    flags=()
    [ "$config" = "affinity off + Redis sessions" ] &&
      flags=(--disable-affinity --session-store "$tmp/redis.sock")
    "$tether" up --app store --port 0 --instances 3 --state-dir "$dir" \
      --store-db "sqlite:$dir/store.db" --log-level warn "${flags[@]}" >"$dir/up.out" 2>"$dir/up.err" &
    plan=$!
    pids+=($plan)
    wait_for grep -q "admin http://127.0.0.1:" "$dir/up.out"
    port="$(sed -n 's|.*ready behind http://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/up.out")"
    admin="$(sed -n 's|.*admin http://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/up.out")"
    wait_for instances_up "$admin"
    node bench/store/prepare.mjs "http://127.0.0.1:$port" "$users" "$dir/cookies.lua"
    load1="$(cut -d' ' -f1 /proc/loadavg)"
    STORE_COOKIES="$dir/cookies.lua" wrk -t1 -c"$connections" -d"${duration}s" --latency \
      -s bench/store/mix.lua "http://127.0.0.1:$port" >"$dir/wrk.txt"
    rps="$(awk '/^Requests\/sec/ {print int($2)}' "$dir/wrk.txt")"
    p50="$(awk '$1 == "50%" {print $2}' "$dir/wrk.txt")"
    p99="$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")"
    bad="$(awk '/Non-2xx or 3xx/ {print $NF}' "$dir/wrk.txt")"
    echo "| $config | $round | $rps | $p50 / $p99 | ${bad:-0} | $(spread "$admin") | $load1 |"
    kill "$plan"
    wait "$plan" 2>/dev/null || true
  done
done
