#!/usr/bin/env bash
# Interop setup for the shell: a local user whose login shell is edgesh, and our own sshd on loopback
# (own config, host key and pid file; the system's sshd is left alone). Runs as root from .ci/run;
# `30-shell.sh stop` stops that sshd.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
base=/var/lib/edgesh-shell
port=${EDGESH_SSH_PORT:-2222}
user=edgeshcli
node=$(command -v node)
# shellcheck source=../lib/daemons.sh
. "$repo/.ci/lib/daemons.sh"

# Stop what an earlier run of this script may have left; with the argument `stop`, only that.
stop_pidfile "$base/sshd/sshd.pid"
if [ "${1:-}" = stop ]; then exit 0; fi
rm -rf "$base"
mkdir -p "$base/sshd" "$base/client" "$base/home" "$base/state"

# The user: key login only (a '*' password is "no password", not a locked account, for sshd).
if ! id "$user" >/dev/null 2>&1; then useradd --home-dir "$base/home" --shell /bin/sh "$user"; fi
usermod --home "$base/home" --password '*' "$user"

# The user must be able to read the program: use the clone in place when it can, else a copy
# (hard links when the file system allows) in a directory it can reach.
app=$repo
if ! su -s /bin/sh -c "test -r '$repo/dist/bin/edgesh-start.cjs' && test -r '$repo/node_modules/vorpal/package.json'" "$user"; then
  app=$base/app
  mkdir -p "$app"
  cp -al "$repo/dist" "$repo/node_modules" "$repo/package.json" "$app/" 2>/dev/null ||
    cp -a "$repo/dist" "$repo/node_modules" "$repo/package.json" "$app/"
fi

# The login shell: a wrapper, because /etc/shells needs one executable path and node needs the script.
# EDGESH_SHELL_SERVICES (optional, for trying this setup on a branch without the device store) names a
# test services module, as EDGESH_SERVICES does for the binary.
{
  echo '#!/bin/sh'
  echo "# edgesh as a login shell (written by .ci/setup.d/30-shell.sh)"
  if [ -n "${EDGESH_SHELL_SERVICES:-}" ]; then echo "export EDGESH_SERVICES='$EDGESH_SHELL_SERVICES'"; fi
  echo "exec '$node' '$app/dist/bin/edgesh-start.cjs' --device '$base/state/device' \"\$@\""
} >/usr/local/bin/edgesh
chmod 755 /usr/local/bin/edgesh
grep -qx /usr/local/bin/edgesh /etc/shells || echo /usr/local/bin/edgesh >>/etc/shells
usermod --shell /usr/local/bin/edgesh "$user"

ssh-keygen -q -t ed25519 -N '' -C edgesh-interop -f "$base/client/id_ed25519"
mkdir -p "$base/home/.ssh"
cp "$base/client/id_ed25519.pub" "$base/home/.ssh/authorized_keys"
# The device keeps files next to its directory too (its vendor keys): the user owns the parent.
chown -R "$user:" "$base/home" "$base/state"
chmod 700 "$base/home/.ssh"
chmod 600 "$base/home/.ssh/authorized_keys"

# Our sshd on loopback.
ssh-keygen -q -t ed25519 -N '' -f "$base/sshd/ssh_host_ed25519_key"
cat >"$base/sshd/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $base/sshd/ssh_host_ed25519_key
PidFile $base/sshd/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers $user
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
StrictModes yes
AcceptEnv LANG LC_*
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
CONF
mkdir -p /run/sshd
/usr/sbin/sshd -t -f "$base/sshd/sshd_config"
/usr/sbin/sshd -f "$base/sshd/sshd_config"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$base/sshd/ssh_host_ed25519_key.pub")" >"$base/client/known_hosts"
wait_tcp shell 127.0.0.1 "$port" sshd "$base/sshd"

{
  echo "EDGESH_SSH_HOST=127.0.0.1"
  echo "EDGESH_SSH_PORT=$port"
  echo "EDGESH_SSH_USER=$user"
  echo "EDGESH_SSH_KEY=$base/client/id_ed25519"
  echo "EDGESH_SSH_KNOWN_HOSTS=$base/client/known_hosts"
  echo "EDGESH_SSH_DEVICE=$base/state/device"
} >>"${INTEROP_ENV:-/dev/null}"
echo "sshd for edgesh on 127.0.0.1:$port, login shell /usr/local/bin/edgesh for $user"
