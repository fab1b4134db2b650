#!/usr/bin/env bash
# Interop setup for the quick start: a new local user with a fresh clone of this repository in its
# home, nothing built, nothing installed. test/interop/quickstart.test.ts then types the README's
# command as that user would. Runs as root from .ci/run.
set -euo pipefail
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
chown -R "$user:" "$home"

{
  echo "EDGESH_QUICKSTART_USER=$user"
  echo "EDGESH_QUICKSTART_DIR=$clone"
} >>"${INTEROP_ENV:-/dev/null}"
echo "quickstart setup: user $user, clone in $clone"
