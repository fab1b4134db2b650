#!/usr/bin/env bash
# Interop setup for the quick start: a new local user with a fresh clone of this repository in its
# home, nothing built, nothing installed. test/interop/quickstart.test.ts then types the README's
# command as that user would. Runs as root from .ci/run; `40-quickstart.sh stop` has nothing to stop.
set -euo pipefail
if [ "${1:-}" = stop ]; then exit 0; fi
cd "$(dirname "$0")/../.."
repo=$(pwd)
user=edgeshnew
home=/var/lib/edgesh-quickstart
clone=$home/edgesh

if ! id "$user" >/dev/null 2>&1; then useradd --home-dir "$home" --shell /bin/bash "$user"; fi
usermod --home "$home" "$user"
rm -rf "$home"
mkdir -p "$home"
# What a fresh clone holds: the committed tree only (no node_modules, no dist, no device).
git clone --quiet --no-hardlinks "$repo" "$clone"
# Where this machine's npm finds node's headers for native addons (drivelist, ssh2) instead of
# downloading them: a machine setting kept in root's npm config, given to the new account as an
# administrator would. Nothing else of root's config (no credentials) is copied.
nodedir=$(npm config get nodedir 2>/dev/null || true)
if [ -n "$nodedir" ] && [ "$nodedir" != undefined ] && [ "$nodedir" != null ]; then
  echo "nodedir=$nodedir" >"$home/.npmrc"
fi
chown -R "$user:" "$home"

{
  echo "EDGESH_QUICKSTART_USER=$user"
  echo "EDGESH_QUICKSTART_DIR=$clone"
} >>"${INTEROP_ENV:-/dev/null}"
echo "quickstart setup: user $user, clone in $clone"
