#!/usr/bin/env bash
# Scenario: a user installs tether and builds examples/hello against it in a
# separate project; the example serves, keeps a session, and runs middleware.
#   hello_example_test.sh BUILD_DIR EXAMPLE_DIR
set -euo pipefail
build="$1"
example="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tether-install-test.XXXXXX")"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/tether/app.hpp"
# The installed library holds no built-in app and no path into the source
# tree (issue 13 part 1): apps/ is linked only into the tether binary.
libs="$(find "$tmp/prefix" -name 'libtether_*.a')"
test -n "$libs"
for lib in $libs; do
  if nm -C "$lib" | grep -E -q 'install_(whoami|chat|store|signalr_chat|meshprobe)|load_browser_bundle'; then
    echo "$lib contains a built-in app" >&2; exit 1
  fi
  if strings "$lib" | grep -q 'tests/realtime/node_modules'; then
    echo "$lib holds a path into the source tree" >&2; exit 1
  fi
done
test ! -e "$tmp/prefix/lib/libtether_apps.a"
test ! -e "$tmp/prefix/include/tether/host/apps.hpp"
cmake -S "$example" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/build" -j2 >/dev/null

"$tmp/build/hello" --port 0 --listen 127.0.0.1 >"$tmp/out" 2>"$tmp/err" &
pid=$!
port=""
for _ in $(seq 1200); do  # poll up to 60 s for the "listening on" line
  port="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/out")"
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/err" >&2; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "hello never listened" >&2; cat "$tmp/err" >&2; exit 1; }

first="$(curl -sS -c "$tmp/jar" -b "$tmp/jar" -D "$tmp/headers" "http://127.0.0.1:$port/")"
second="$(curl -sS -c "$tmp/jar" -b "$tmp/jar" "http://127.0.0.1:$port/")"
greet="$(curl -sS "http://127.0.0.1:$port/greet/world?greeting=hi")"
echo "$first"; echo "$second"; echo "$greet"
grep -q ", visit 1$" <<<"$first"
grep -q ", visit 2$" <<<"$second"
[ "$greet" = "hi, world" ]
grep -qi "^X-Powered-By: tether" "$tmp/headers"
grep -qi "^X-Instance-Id: " "$tmp/headers"
grep -qi "^Set-Cookie: TetherSession=[0-9a-f]\{32\};Path=/;HttpOnly;SameSite=Lax" "$tmp/headers"
echo "install.hello_example: ok"
