# Shell functions the interop setup scripts share (sourced from .ci/setup.d/*.sh): ending a daemon by
# its pid file, waiting for a port, refusing to run as another user than root.

# stop_pidfile FILE: ends the process FILE names (TERM, then up to 5 s for it to go) and removes FILE.
stop_pidfile() {
  local pidfile=$1 pid
  [ -e "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
}

# wait_tcp WHO HOST PORT WHAT LOGDIR: waits up to 10 s for HOST:PORT to accept; else says so and exits 1.
wait_tcp() {
  local who=$1 host=$2 port=$3 what=$4 logdir=$5
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$who setup: $what did not start on $host:$port (see $logdir)" >&2
  exit 1
}

# require_root WHO: daemons bind ports and drop privileges, so the setup runs as root.
require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$1 setup: must run as root" >&2
    exit 1
  fi
}
