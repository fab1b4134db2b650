#!/usr/bin/env bash
# Starts the feed server of the updater's interop test and bench: nginx on loopback serving a directory,
# with an access log of method, path, status and body bytes per request (the bench counts bytes per
# device from it; the interop test looks for its 304s). Its own config, pid and log under
# $UPDATER_STATE; `stop` (or UPDATER_ACTION=stop) stops it. Runs as root; idempotent.
set -euo pipefail

STATE=${UPDATER_STATE:-/var/lib/edgesh-updater}
HOST=127.0.0.1
PORT=${UPDATER_HTTP_PORT:-2190}
ACTION=${1:-${UPDATER_ACTION:-start}}
ENV_OUT=${INTEROP_ENV:-$STATE/interop.env}
SRV=$STATE/srv
LOG=$STATE/log
RUN=$STATE/run

# shellcheck source=../lib/daemons.sh
. "$(dirname "$0")/../lib/daemons.sh"
stop_nginx() { stop_pidfile "$RUN/nginx.pid"; }

if [ "$ACTION" = stop ]; then
  stop_nginx
  exit 0
fi
require_root updater
export PATH=$PATH:/usr/sbin:/sbin
command -v nginx >/dev/null || { echo "updater setup: nginx is not installed" >&2; exit 1; }

stop_nginx
mkdir -p "$SRV" "$LOG" "$RUN" "$STATE/tmp"
chmod 755 "$STATE" "$SRV"
: > "$LOG/access.log"

cat > "$STATE/nginx.conf" <<CONF
worker_processes 1;
pid $RUN/nginx.pid;
error_log $LOG/error.log;
user nobody nogroup;
events { worker_connections 1024; }
http {
  log_format updater '\$request_method \$uri \$status \$body_bytes_sent';
  access_log $LOG/access.log updater;
  client_body_temp_path $STATE/tmp/body;
  proxy_temp_path $STATE/tmp/proxy;
  fastcgi_temp_path $STATE/tmp/fastcgi;
  uwsgi_temp_path $STATE/tmp/uwsgi;
  scgi_temp_path $STATE/tmp/scgi;
  default_type application/octet-stream;
  sendfile on;
  root $SRV;
  server { listen $HOST:$PORT; }
}
CONF
nginx -c "$STATE/nginx.conf" -p "$STATE" -g 'daemon on;' 2>>"$LOG/error.log"

wait_tcp updater "$HOST" "$PORT" nginx "$LOG"

cat >> "$ENV_OUT" <<ENV
UPDATER_HOST=$HOST
UPDATER_HTTP_PORT=$PORT
UPDATER_SRV=$SRV
UPDATER_ACCESS_LOG=$LOG/access.log
ENV
echo "updater: nginx :$PORT on $HOST serving $SRV (access log $LOG/access.log)"
