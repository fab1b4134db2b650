#!/usr/bin/env bash
# Interop setup for feeds: two versions of a feed made the Debian way, in the directory the transports'
# nginx (http, https) and vsftpd serve. Packages are built with this repository's wmopkg and signed with
# a signify key; the index is written by dpkg-scanpackages -t wmopkg, the Release by apt-ftparchive, both
# signed by signify-openbsd. Runs as root from .ci/run after 20-transports.sh; nothing to stop.
set -euo pipefail
if [ "${1:-}" = stop ]; then exit 0; fi
cd "$(dirname "$0")/../.."
repo=$(pwd)
SRV=${TRANSPORTS_STATE:-/var/lib/edgesh-transports}/srv
STATE=/var/lib/edgesh-feeds
for tool in dpkg-scanpackages apt-ftparchive signify-openbsd; do
  command -v "$tool" >/dev/null || { echo "feeds setup: $tool is not installed" >&2; exit 1; }
done
[ -d "$SRV" ] || { echo "feeds setup: $SRV is missing (20-transports.sh runs first)" >&2; exit 1; }
rm -rf "$STATE" "$SRV/feeds"
mkdir -p "$STATE/trees" "$SRV/feeds"
signify-openbsd -G -n -c 'edgesh feeds interop' -p "$STATE/feed.pub" -s "$STATE/feed.sec"

# build NAME VERSION DEPENDS FEEDDIR: one signed .wmopkg from a CONTROL/ tree.
build() {
  local tree="$STATE/trees/$1-$2"
  mkdir -p "$tree/CONTROL" "$tree/usr/share/$1"
  {
    echo "Package: $1"
    echo "Version: $2"
    echo "Architecture: all"
    echo "Maintainer: Feeds Interop <feeds@example.com>"
    if [ -n "$3" ]; then echo "Depends: $3"; fi
    echo "Description: $1, built for the feeds interop test"
  } >"$tree/CONTROL/control"
  echo "$1 $2" >"$tree/usr/share/$1/README"
  mkdir -p "$4/pool"
  SOURCE_DATE_EPOCH=1700000000 node "$repo/dist/bin/wmopkg.js" build -o root -g root \
    --sign "$STATE/feed.sec" --out "$4/pool/$1_$2_all.wmopkg" "$tree" >/dev/null
}

# index FEEDDIR: the Debian tools' index, Release valid for a week, both signed.
index() {
  (
    cd "$1"
    dpkg-scanpackages -t wmopkg . >Packages 2>/dev/null
    gzip -9kn Packages
    signify-openbsd -S -s "$STATE/feed.sec" -m Packages -x Packages.sig
    apt-ftparchive -o APT::FTPArchive::Release::ValidTime=604800 release . >"$STATE/Release"
    mv "$STATE/Release" Release
    signify-openbsd -S -s "$STATE/feed.sec" -m Release -x Release.sig
  )
}

one=$SRV/feeds/one
two=$SRV/feeds/two
build liba 1.0 "" "$one"
build libb 1.0 "liba (>= 1.0)" "$one"
build app 1.0 "libb" "$one"
build tool 1.0 "" "$one"
index "$one"
# The feed moves on: liba 1.1, app 2.0 needing a new libc.
build liba 1.1 "" "$two"
build libb 1.0 "liba (>= 1.0)" "$two"
build libc 1.0 "" "$two"
build app 2.0 "libb, libc" "$two"
build tool 1.0 "" "$two"
# dpkg-scanpackages keeps one version per package: the second feed is a directory of its own.
index "$two"
chmod -R a+rX "$SRV/feeds"
chown -R "${TRANSPORTS_USER:-edgeshix}:" "$SRV/feeds" 2>/dev/null || true

{
  echo "FEEDS_PUB=$STATE/feed.pub"
  echo "FEEDS_PATH=feeds"
} >>"${INTEROP_ENV:-/dev/null}"
echo "feeds setup: feeds/one and feeds/two under $SRV, signed with $STATE/feed.sec"
