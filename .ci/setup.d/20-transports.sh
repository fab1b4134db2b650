#!/usr/bin/env bash
# Starts the real servers the transports interop tests (and benchmarks) talk to, on loopback only:
# vsftpd (local user + password, passive ports in a fixed range), tftpd-hpa, OpenSSH sshd (sftp via
# internal-sftp, scp, password and key auth) and nginx (http, https with a test CA made here).
# Everything lives under $TRANSPORTS_STATE with its own config and pid files (no /etc defaults are
# touched, apart from one local user); ports come from variables. Runs as root; idempotent: a second run
# restarts the daemons. `TRANSPORTS_ACTION=stop` (or the argument `stop`) stops them.
set -euo pipefail

STATE=${TRANSPORTS_STATE:-/var/lib/edgesh-transports}
USER_NAME=${TRANSPORTS_USER:-edgeshix}
HOST=127.0.0.1
FTP_PORT=${TRANSPORTS_FTP_PORT:-2121}
PASV_MIN=${TRANSPORTS_PASV_MIN:-2130}
PASV_MAX=${TRANSPORTS_PASV_MAX:-2139}
SSH_PORT=${TRANSPORTS_SSH_PORT:-2122}
TFTP_PORT=${TRANSPORTS_TFTP_PORT:-2169}
HTTP_PORT=${TRANSPORTS_HTTP_PORT:-2180}
HTTPS_PORT=${TRANSPORTS_HTTPS_PORT:-2143}
ACTION=${1:-${TRANSPORTS_ACTION:-start}}
ENV_OUT=${INTEROP_ENV:-$STATE/interop.env}

SRV=$STATE/srv
ETC=$STATE/etc
RUN=$STATE/run
LOG=$STATE/log
CLIENT=$STATE/client

# shellcheck source=../lib/daemons.sh
. "$(dirname "$0")/../lib/daemons.sh"
stop_all() {
  for pidfile in "$RUN"/*.pid; do stop_pidfile "$pidfile"; done
}

if [ "$ACTION" = stop ]; then
  stop_all
  exit 0
fi

require_root transports
for tool in vsftpd in.tftpd sshd nginx openssl ssh-keygen; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "transports setup: $tool is not installed" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin:/sbin

stop_all
mkdir -p "$SRV/private" "$ETC/authorized_keys" "$RUN" "$LOG" "$CLIENT/certs" "$STATE/empty" "$STATE/tmp" /run/sshd
chmod 755 "$STATE" "$SRV" "$SRV/private" "$STATE/empty"

# The served files: one good package (random bytes) at the login root and behind http auth.
if [ ! -s "$SRV/good.wmopkg" ]; then
  head -c 1048576 /dev/urandom > "$SRV/good.wmopkg"
fi
cp "$SRV/good.wmopkg" "$SRV/private/good.wmopkg"
chmod 644 "$SRV/good.wmopkg" "$SRV/private/good.wmopkg"
SHA256=$(openssl dgst -sha256 -r "$SRV/good.wmopkg" | cut -d' ' -f1)

# One local user for ftp and ssh, its home the served directory, a new random password every run.
if ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd --no-create-home --home-dir "$SRV" --shell /bin/sh "$USER_NAME"
else
  usermod --home "$SRV" --shell /bin/sh "$USER_NAME" 2>/dev/null || true
fi
PASSWORD=$(openssl rand -hex 12)
echo "$USER_NAME:$PASSWORD" | chpasswd

# vsftpd: foreground under our own config; its pid is the one we start.
cat > "$ETC/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=$HOST
listen_port=$FTP_PORT
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=NO
local_root=$SRV
pasv_enable=YES
pasv_address=$HOST
pasv_min_port=$PASV_MIN
pasv_max_port=$PASV_MAX
pam_service_name=vsftpd
secure_chroot_dir=$STATE/empty
seccomp_sandbox=NO
xferlog_enable=NO
vsftpd_log_file=$LOG/vsftpd.log
ssl_enable=NO
userlist_enable=NO
CONF
setsid vsftpd "$ETC/vsftpd.conf" > "$LOG/vsftpd.out" 2>&1 < /dev/null &
echo $! > "$RUN/vsftpd.pid"

# tftpd-hpa: daemon with its own pid file, serving the directory read-only.
in.tftpd --listen --address "$HOST:$TFTP_PORT" --secure --user nobody --pidfile "$RUN/tftpd.pid" "$SRV"

# sshd: own host key, config and pid file; sftp by internal-sftp, scp through the user's shell.
[ -s "$ETC/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C edgesh-interop -f "$ETC/ssh_host_ed25519_key"
[ -s "$CLIENT/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C edgesh-device -f "$CLIENT/id_ed25519"
cp "$CLIENT/id_ed25519.pub" "$ETC/authorized_keys/$USER_NAME"
chmod 644 "$ETC/authorized_keys/$USER_NAME"
cat > "$ETC/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress $HOST
HostKey $ETC/ssh_host_ed25519_key
PidFile $RUN/sshd.pid
AuthorizedKeysFile $ETC/authorized_keys/%u
StrictModes no
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers $USER_NAME
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
Subsystem sftp internal-sftp
CONF
"$(command -v sshd)" -f "$ETC/sshd_config" -E "$LOG/sshd.log"
echo "[$HOST]:$SSH_PORT $(cut -d' ' -f1,2 "$ETC/ssh_host_ed25519_key.pub")" > "$CLIENT/known_hosts"

# A test CA and a server certificate for nginx's https.
if [ ! -s "$ETC/server.pem" ] || ! openssl x509 -checkend 3600 -noout -in "$ETC/server.pem" >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=edgesh interop CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$ETC/ca.key" -out "$ETC/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout "$ETC/server.key" -out "$ETC/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$ETC/server.ext"
  openssl x509 -req -in "$ETC/server.csr" -CA "$ETC/ca.pem" -CAkey "$ETC/ca.key" -CAcreateserial -days 2 \
    -extfile "$ETC/server.ext" -out "$ETC/server.pem" 2>/dev/null
fi
cp "$ETC/ca.pem" "$CLIENT/certs/interop-ca.pem"
printf '%s:%s\n' "$USER_NAME" "$(openssl passwd -apr1 "$PASSWORD")" > "$ETC/htpasswd"
chmod 644 "$ETC/htpasswd"

cat > "$ETC/nginx.conf" <<CONF
worker_processes 1;
pid $RUN/nginx.pid;
error_log $LOG/nginx-error.log;
user nobody nogroup;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $STATE/tmp/body;
  proxy_temp_path $STATE/tmp/proxy;
  fastcgi_temp_path $STATE/tmp/fastcgi;
  uwsgi_temp_path $STATE/tmp/uwsgi;
  scgi_temp_path $STATE/tmp/scgi;
  default_type application/octet-stream;
  sendfile on;
  root $SRV;
  server { listen $HOST:$HTTP_PORT; location /private/ { auth_basic "packages"; auth_basic_user_file $ETC/htpasswd; } }
  server {
    listen $HOST:$HTTPS_PORT ssl;
    ssl_certificate $ETC/server.pem;
    ssl_certificate_key $ETC/server.key;
    location /private/ { auth_basic "packages"; auth_basic_user_file $ETC/htpasswd; }
  }
}
CONF
nginx -c "$ETC/nginx.conf" -p "$STATE" -g 'daemon on;' 2>>"$LOG/nginx-error.log"

wait_tcp transports "$HOST" "$FTP_PORT" vsftpd "$LOG"
wait_tcp transports "$HOST" "$SSH_PORT" sshd "$LOG"
wait_tcp transports "$HOST" "$HTTP_PORT" nginx "$LOG"
wait_tcp transports "$HOST" "$HTTPS_PORT" nginx "$LOG"
[ -s "$RUN/tftpd.pid" ] && kill -0 "$(cat "$RUN/tftpd.pid")" || { echo "transports setup: tftpd-hpa did not start" >&2; exit 1; }

umask 077
cat >> "$ENV_OUT" <<ENV
TRANSPORTS_HOST=$HOST
TRANSPORTS_FTP_PORT=$FTP_PORT
TRANSPORTS_TFTP_PORT=$TFTP_PORT
TRANSPORTS_SSH_PORT=$SSH_PORT
TRANSPORTS_HTTP_PORT=$HTTP_PORT
TRANSPORTS_HTTPS_PORT=$HTTPS_PORT
TRANSPORTS_USER=$USER_NAME
TRANSPORTS_PASSWORD=$PASSWORD
TRANSPORTS_FILE=good.wmopkg
TRANSPORTS_SHA256=$SHA256
TRANSPORTS_SRV=$SRV
TRANSPORTS_KNOWN_HOSTS=$CLIENT/known_hosts
TRANSPORTS_SSH_KEY=$CLIENT/id_ed25519
TRANSPORTS_CA_DIR=$CLIENT/certs
ENV
echo "transports: vsftpd :$FTP_PORT, tftpd-hpa :$TFTP_PORT/udp, sshd :$SSH_PORT, nginx :$HTTP_PORT/:$HTTPS_PORT on $HOST (state in $STATE)"
