# bench/front/common.sh: what run.sh, h2.sh and instructions.sh share (sourced, not run).

# free_ports N: N distinct loopback ports the OS reports free (bound at once, then released).
free_ports() {
  python3 -c 'import socket,sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

# stop_pids PID...: SIGTERM to each, reaped (no zombies left behind); anything
# still up after 6 s gets SIGKILL.
stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null; done
  ( sleep 6; for pid in "$@"; do kill -KILL "$pid" 2>/dev/null; done ) &
  local killer=$!
  for pid in "$@"; do wait "$pid" 2>/dev/null; done
  kill "$killer" 2>/dev/null; wait "$killer" 2>/dev/null
  return 0
}

# haproxy_head_common THREADS MAXCONN: HAProxy's global and defaults sections (HTTP
# mode, the timeouts every bench uses).
haproxy_head_common() {
  cat <<EOT
global
  nbthread $1
  maxconn $2
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
EOT
}

# haproxy_cookie_backend NAME PORT1 PORT2: an HAProxy backend over the two
# nginx ports that inserts the SERVERID cookie (HAProxy's answer to ARRAffinity).
haproxy_cookie_backend() {
  cat <<EOT
backend $1
  balance roundrobin
  cookie SERVERID insert indirect nocache
  server b1 127.0.0.1:$2 cookie b1
  server b2 127.0.0.1:$3 cookie b2
EOT
}

# bench_tmp NAME: makes $TMP (/tmp/tether-bench-NAME.*; kept when the run
# fails or KEEP_TMP=1) and the empty list $PIDS, whose processes are stopped
# on exit.
bench_tmp() {
  TMP=$(mktemp -d "/tmp/tether-bench-$1.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  local rc=$?
  set +e
  stop_pids "${PIDS[@]}"
  if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    echo "logs kept in $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit $rc
}
