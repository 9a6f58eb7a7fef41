#!/usr/bin/env bash
# Seed 002's experiment in one command: a `tether up` plan of the `store` app
# (3 instances, round-robin, a fresh SQLite catalog/cart database), then
# scripts/store-scenario.mjs's virtual users, then everything stopped again.
#
#   scripts/store-scenario.sh CONFIG [--users N]
#
#   affinity     ARR affinity on, sessions in memory     -> every cart right
#   no-affinity  the app opts out (Arr-Disable-Session-Affinity), memory sessions
#                                                         -> wrong carts (the seed's failing run)
#   site-off     affinity off for the site (--affinity off), memory sessions -> wrong carts
#   redis        opt-out + sessions in a throwaway redis-server (unix socket)
#                                                         -> every cart right, spread over all instances
#   sqlite       opt-out + sessions in a SQLite file the instances share -> the same
#
# Exits 0 when the outcome is the one the configuration should give (wrong
# carts are the expected outcome of no-affinity and site-off). Uses
# $TETHER_BINARY, else build/tether (built like scripts/up.sh when missing).
# Every process is started here and stopped by its PID; only 127.0.0.1 ports
# the OS picks are used; temp files go to one mktemp directory.
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-}"
shift || true
users=10
while [ $# -gt 0 ]; do
  case "$1" in
    --users) users="$2"; shift 2 ;;
    *) echo "store-scenario: unknown argument $1" >&2; exit 2 ;;
  esac
done

flags=()
expect=right
case "$config" in
  affinity) ;;
  no-affinity) flags=(--disable-affinity); expect=wrong ;;
  site-off) flags=(--affinity off); expect=wrong ;;
  redis | sqlite) flags=(--disable-affinity) ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac

if ! command -v node >/dev/null || ! command -v redis-server >/dev/null; then
  scripts/install-deps.sh  # node and redis-server come with the test dependencies
fi
tether="${TETHER_BINARY:-build/tether}"
if [ ! -x "$tether" ]; then
  scripts/install-deps.sh --build-only
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j2 --target tether
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tether-store-scenario.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Polls `cmd...` every 50 ms until it succeeds; fails after 60 s.
wait_for() {
  local what="$1"; shift
  for _ in $(seq 1200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "store-scenario: $what not ready after 60 s" >&2
  return 1
}

if [ "$config" = redis ]; then
  redis-server --port 0 --unixsocket "$tmp/redis.sock" --save '' --appendonly no \
    --dir "$tmp" --logfile "$tmp/redis.log" &
  pids+=($!)
  wait_for redis-server redis-cli -s "$tmp/redis.sock" ping
  flags+=(--session-store "$tmp/redis.sock")
elif [ "$config" = sqlite ]; then
  flags+=(--session-store "sqlite:$tmp/sessions.db")
fi

"$tether" up --app store --port 0 --instances 3 --balancing round-robin \
  --state-dir "$tmp" --store-db "sqlite:$tmp/store.db" --log-level warn "${flags[@]}" \
  >"$tmp/up.out" 2>"$tmp/up.err" &
pids+=($!)
wait_for "tether up" grep -q "admin http://127.0.0.1:" "$tmp/up.out" || { cat "$tmp/up.err" >&2; exit 1; }
port="$(sed -n 's|.*ready behind http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/up.out")"
admin="$(sed -n 's|.*admin http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/up.out")"

echo "tether up --app store ${flags[*]}  (front door http://127.0.0.1:$port)"
echo
set +e
node scripts/store-scenario.mjs --url "http://127.0.0.1:$port" --users "$users" \
  --admin "http://127.0.0.1:$admin" --instances 3
rc=$?
set -e
echo
if [ "$expect" = right ] && [ $rc -eq 0 ]; then
  echo "as seed 002 says: every cart is right ($config)"; exit 0
elif [ "$expect" = wrong ] && [ $rc -eq 1 ]; then
  echo "as seed 002 says: without affinity, in-memory sessions lose the cart id ($config)"; exit 0
fi
echo "unexpected outcome for $config (scenario exit code $rc)"; exit 1
