#!/usr/bin/env bash
# bench/mesh/run.sh: the mesh beside the Redis pub/sub backplane, in one run
# (issue 4, item 8). Results: docs/benchmarks.md, "Mesh".
#
#   bench/mesh/run.sh [--quick] [--kills N]
#
#   --quick    4 s phases instead of 8, 5 kills instead of 20 (smoke test)
#   --kills N  hub kills in the failover phase (default 20)
#
# What it does:
#   1. installs redis-server/redis-tools and python3 with apt-get, only those missing;
#   2. builds tether-meshprobe (tether plus the meshprobe app, bench/meshprobe/)
#      Release into $BUILD (default build-bench-mesh/):
#        cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF
#        cmake --build $BUILD -j2 --target tether-meshprobe
#   3. starts redis-server on a unix socket in a temp dir (no TCP, no persistence);
#   4. runs bench/mesh/driver.py twice, everything under `taskset -c 0` (front door,
#      4 instances, Redis; the driver polls from core 1):
#        mesh:  tether-meshprobe up --app meshprobe --instances 4   (SQLite hub record)
#        redis: the same with [mesh] backplane = "redis", redis = <the socket>
#      each: 2,500/s per instance (10,000/s in all; p50/p99), 10,000/s per instance,
#      saturated (rate=0), then for the mesh 20 hub SIGKILLs while everyone
#      publishes 200/s (failover time); 100-byte messages; lost and duplicated
#      messages after every phase;
#   5. redis-benchmark PUBLISH (100 bytes, pipelined, no subscriber) as an anchor;
#   6. prints a Markdown table and the targets met or missed (also written to
#      $BUILD/bench-mesh-results.md); progress goes to stderr.
#
# Every process is started here (or by the driver), its PID recorded, and
# stopped by that PID. Only 127.0.0.1 and unix sockets are used. About 4
# minutes once tether is built. KEEP_TMP=1 keeps configs and logs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench-mesh}
SECONDS_PER_PHASE=8
KILLS=20
while [ $# -gt 0 ]; do
  arg=$1; shift
  case "$arg" in
    --quick) SECONDS_PER_PHASE=4; KILLS=5 ;;
    --kills) KILLS=${1:?--kills needs a number}; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done
RESULTS=${RESULTS:-$BUILD/bench-mesh-results.md}

log() { printf '[run.sh %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- 1. what we need --------------------------------------------------------
need=()
for p in redis-server redis-tools python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ] && ! { command -v redis-server && command -v redis-benchmark && command -v python3; } >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- 2. tether --------------------------------------------------------------
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
VERSION="working tree of $COMMIT$(
  git -C "$ROOT" --no-optional-locks diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null \
  || echo ' + local changes')"
log "building tether-meshprobe (Release, $VERSION) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target tether-meshprobe >/dev/null
TETHER=$BUILD/bench/tether-meshprobe

# --- processes: started here, stopped by PID -------------------------------
TMP=$(mktemp -d /tmp/tether-bench-mesh.XXXXXX)
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

# --- 3. Redis -----------------------------------------------------------------
SOCK=$TMP/redis.sock
taskset -c 0 redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --save '' \
  --appendonly no --dir "$TMP" --logfile "$TMP/redis.log" &
REDIS_PID=$!
for _ in $(seq 100); do
  [ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
[ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" = PONG ] || die "redis-server did not answer: $(tail -3 "$TMP/redis.log")"
REDIS_VERSION=$(redis-server --version | sed -E 's/.*v=([0-9.]+).*/\1/')
printf '[mesh]\nbackplane = "redis"\nredis = "%s"\n' "$SOCK" >"$TMP/redis.toml"

# --- 4. the two backplanes ------------------------------------------------------
DRIVER=(taskset -c 1 python3 "$ROOT/bench/mesh/driver.py" --tether "$TETHER" --cpus 0
        --instances 4 --seconds "$SECONDS_PER_PHASE" --rate 2500 --high-rate 10000 --bytes 100)
log "mesh: 4 instances, $SECONDS_PER_PHASE s phases, $KILLS hub kills"
"${DRIVER[@]}" --label mesh --dir "$TMP/mesh" --kills "$KILLS" >"$TMP/mesh.json"
log "redis backplane: 4 instances, $SECONDS_PER_PHASE s phases"
"${DRIVER[@]}" --label redis --dir "$TMP/redis" --config "$TMP/redis.toml" >"$TMP/redis.json"

# --- 5. Redis's own anchor ------------------------------------------------------
log "redis-benchmark PUBLISH, 100-byte payload, -P 16 -c 4"
PAYLOAD=$(printf 'x%.0s' $(seq 100))
ANCHOR=$(taskset -c 1 redis-benchmark -s "$SOCK" -c 4 -P 16 -n 500000 -q \
  PUBLISH tether:bench "$PAYLOAD" 2>/dev/null | tr '\r' '\n' | grep -Eo '[0-9.]+ requests per second' | tail -1)

# --- 6. the table -----------------------------------------------------------------
python3 - "$TMP/mesh.json" "$TMP/redis.json" "$ANCHOR" "$VERSION" "$REDIS_VERSION" \
  "$SECONDS_PER_PHASE" <<'EOF' | tee "$RESULTS"
import json, sys, time, platform
mesh, redis = (json.load(open(p)) for p in sys.argv[1:3])
anchor, version, redis_version, secs = sys.argv[3:7]
def f(x, d=0):
    return "-" if x is None else f"{x:,.{d}f}"
def ratio(a, b):
    return "-" if not a or not b else f"{a / b:.2f}"
print(f"## The mesh beside the Redis backplane ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
print()
print(f"4 instances (`tether up --app meshprobe`), 100-byte messages, {secs} s per phase, front door,")
print("instances and Redis all on core 0. Delivered = messages received, summed over the 4")
print("receivers (each message reaches all 4, the sender included).")
print()
print("| backplane | phase | delivered/s | ratio to Redis | p50 / p99 µs (median pair) | p99 µs (worst pair) | lost | duplicated |")
print("|---|---|---|---|---|---|---|---|")
for phase, name in (("fixed", "2,500/s per instance (10,000/s)"),
                    ("fixed_high", "10,000/s per instance (40,000/s)"),
                    ("saturated", "saturated (rate=0)")):
    for b in (mesh, redis):
        r = b.get(phase)
        if not r:
            continue
        lat = "-" if phase == "saturated" else f"{f(r['p50_us_median'])} / {f(r['p99_us_median'])}"
        worst = "-" if phase == "saturated" else f(r["p99_us_max"])
        drained = "" if r["drained"] else " (not drained in 10 s)"
        print(f"| {b['label']} | {name} | {f(r['delivered_per_s'])} | "
              f"{ratio(r['delivered_per_s'], redis[phase]['delivered_per_s'])} | {lat} | {worst} | "
              f"{r['lost']:,}{drained} | {r['duplicated']:,} |")
fo = mesh.get("failover")
if fo:
    print()
    print(f"Failover (mesh): {fo['kills']} hub SIGKILLs while every instance publishes 200/s; "
          f"converged {fo['converged']}/{fo['kills']}; median {f(fo['median_ms'])} ms, "
          f"max {f(fo['max_ms'])} ms; lost {fo['lost']}, duplicated {fo['duplicated']}. "
          f"All (ms): {fo['all_ms']}.")
print()
print(f"Redis's own anchor: redis-benchmark PUBLISH, 100-byte payload, no subscriber, -c 4 -P 16: {anchor or '-'}.")
print()
print("Targets:")
print()
sat = ratio(mesh["saturated"]["delivered_per_s"], redis["saturated"]["delivered_per_s"])
print(f"- saturated throughput >= 2x the Redis backplane's: ratio {sat} ({'met' if sat != '-' and float(sat) >= 2 else 'MISSED'})")
p99 = mesh["fixed"]["p99_us_max"]
print(f"- p99 <= 1 ms at 10k/s: worst pair {f(p99)} µs, median pair {f(mesh['fixed']['p99_us_median'])} µs "
      f"({'met' if p99 is not None and p99 <= 1000 else 'MISSED'})")
if fo:
    ok = fo["median_ms"] is not None and fo["median_ms"] <= 1000 and fo["max_ms"] <= 2000 and fo["converged"] == fo["kills"]
    print(f"- failover median <= 1 s, max <= 2 s: {f(fo['median_ms'])} / {f(fo['max_ms'])} ms ({'met' if ok else 'MISSED'})")
lost = sum(mesh[p]["lost"] + mesh[p]["duplicated"] for p in ("fixed", "fixed_high", "saturated") if p in mesh)
lost += (fo or {}).get("lost", 0) + (fo or {}).get("duplicated", 0)
print(f"- mesh: 0 lost, 0 duplicated: {lost} in all ({'met' if lost == 0 else 'MISSED'})")
print()
print(f"Versions: tether {version} (Release); Redis {redis_version}; {platform.python_implementation()} "
      f"{platform.python_version()} driver. CPU: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}.")
EOF
log "results written to $RESULTS"
