#!/usr/bin/env bash
# Installs the Debian 12 packages tether needs to build, run and test, and the
# tests' npm packages: playwright-core (which drives Debian's Chromium; no
# browser is ever downloaded), @microsoft/signalr, and the Azurite emulator. Idempotent and non-interactive:
# packages already present are skipped, so a second run costs one dpkg query
# and one file-date comparison.
# Usage: scripts/install-deps.sh [--build-only | --system-only | --npm-only]
#   --build-only: no test deps; --system-only: the Debian packages (and
#   msgpack-cxx) only; --npm-only: the npm packages only. scripts/test.sh runs
#   the npm part while it builds: it waits on the network, not the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=false system=true npm=true
case "${1:-}" in
  --build-only) build_only=true ;;
  --system-only) npm=false ;;
  --npm-only) system=false ;;
  "") ;;
  *) echo "install-deps: unknown option '$1' (--build-only, --system-only or --npm-only)" >&2; exit 2 ;;
esac

build_pkgs=(
  build-essential cmake pkg-config git ca-certificates python3
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libpq-dev libhiredis-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libnghttp2-dev liburing-dev
  curl
)
if ! $build_only; then
  # Real servers the tests start and stop themselves (never the system units).
  build_pkgs+=(chromium fonts-inter redis-server postgresql)
  # HAProxy as a front door (tests/integration/mesh_haproxy_test.cpp); clang
  # and its runtime for the libFuzzer targets (tests/fuzz/run.sh).
  build_pkgs+=(haproxy clang-14 libclang-rt-14-dev)
  # git clang-format for scripts/check-format.sh (.clang-format on changed lines).
  build_pkgs+=(clang-format-14)
  # nginx beside tether and HAProxy in tests/integration/front_differential_test.cpp
  # (started there by path on a port the OS picks, never as the system unit).
  build_pkgs+=(nginx)
  # nghttp (HTTP/2 client) and h2load for the HTTP/2 tests and benchmarks.
  build_pkgs+=(nghttp2-client)
fi
# Node.js and npm, also for --build-only: `tether up`'s default app serves the
# official @microsoft/signalr browser bundle from npm, and the browser and
# realtime tests run on Node. Debian's, unless the machine already has them
# (NodeSource's nodejs bundles npm and conflicts with Debian's npm).
command -v node >/dev/null 2>&1 || build_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || build_pkgs+=(npm)

missing=()
$system || build_pkgs=()
for p in "${build_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The servers above are the tests' children, never system services: a
  # policy-rc.d that denies every start (exit 101) keeps their postinst from
  # starting one (nginx's would take port 80). One already present (Docker
  # images ship one) is left as it is; ours is removed on any exit.
  policy=/usr/sbin/policy-rc.d own_policy=false
  if [ ! -e "$policy" ]; then
    own_policy=true
    trap '$SUDO rm -f "$policy"' EXIT
    printf '#!/bin/sh\n# install-deps.sh: no service starts during this install\nexit 101\n' |
      $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if $own_policy; then $SUDO rm -f "$policy"; trap - EXIT; fi
fi

# msgpack-cxx (header-only) for the SignalR MessagePack protocol. Debian's
# libmsgpack-cxx-dev Depends on libboost-dev, which is Boost 1.74 and
# conflicts with the 1.81 packages above; so, unless it is installed, the
# same Debian package is downloaded with apt and unpacked into .deps/
# (git-ignored), where CMakeLists.txt looks for it. Nothing else is taken
# from it than its headers.
msgpack_deb_dir=.deps
if $system && ! dpkg-query -W -f='${Status}' libmsgpack-cxx-dev 2>/dev/null | grep -q "install ok installed" &&
   [ ! -f "$msgpack_deb_dir/usr/include/msgpack.hpp" ]; then
  echo "install-deps: unpacking Debian's libmsgpack-cxx-dev into $msgpack_deb_dir/" >&2
  mkdir -p "$msgpack_deb_dir/download"
  (cd "$msgpack_deb_dir/download" && apt-get download libmsgpack-cxx-dev >/dev/null 2>&1 ||
     { apt-get update -qq && apt-get download libmsgpack-cxx-dev >/dev/null; })
  dpkg-deb -x "$msgpack_deb_dir"/download/libmsgpack-cxx-dev_*.deb "$msgpack_deb_dir"
  rm -rf "$msgpack_deb_dir/download"
fi

$npm || exit 0
# playwright-core for the headless Chromium test, exactly as package-lock.json
# pins it; again only when node_modules is missing or older than the lock.
browser=tests/browser

# @microsoft/signalr for tests/realtime (the official client's interop tests)
# and for the signalr-chat app, which serves its browser bundle from there
# (docs/realtime.md). Also with --build-only, when npm is already present.
realtime=tests/realtime
if command -v npm >/dev/null 2>&1; then
  if [ ! -d "$realtime/node_modules/@microsoft/signalr" ] ||
     [ "$realtime/package-lock.json" -nt "$realtime/node_modules" ]; then
    echo "install-deps: npm ci in $realtime" >&2
    npm ci --prefix "$realtime" --no-audit --no-fund >/dev/null
    touch "$realtime/node_modules"
  fi
elif $build_only; then
  echo "install-deps: no npm: the signalr-chat page will lack @microsoft/signalr (run without --build-only)" >&2
fi
if $build_only; then exit 0; fi
if [ ! -d "$browser/node_modules/playwright-core" ] ||
   [ "$browser/package-lock.json" -nt "$browser/node_modules" ]; then
  echo "install-deps: npm ci in $browser" >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$browser" --no-audit --no-fund >/dev/null
  touch "$browser/node_modules"
fi
# The official Dapr SDK for tests/dapr (tether serve --dapr, docs/api.md).
dapr=tests/dapr
if [ ! -d "$dapr/node_modules/@dapr/dapr" ] ||
   [ "$dapr/package-lock.json" -nt "$dapr/node_modules" ]; then
  echo "install-deps: npm ci in $dapr" >&2
  npm ci --prefix "$dapr" --no-audit --no-fund >/dev/null
  touch "$dapr/node_modules"
fi
# The Azure Table Storage emulator (Azurite) for the Azure Tables hub store
# tests: tests/azurite pins the last release that runs on Node 20.
azurite=tests/azurite
if [ ! -d "$azurite/node_modules/azurite" ] ||
   [ "$azurite/package-lock.json" -nt "$azurite/node_modules" ]; then
  echo "install-deps: npm ci in $azurite" >&2
  npm ci --prefix "$azurite" --no-audit --no-fund >/dev/null
  touch "$azurite/node_modules"
fi
