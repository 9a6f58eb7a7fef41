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
