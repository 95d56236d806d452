#!/usr/bin/env bash
# Builds the etcd server from its Go module (pinned in etcd/go.mod), once per version, into
# a cache outside the work tree. Prints the directory holding the binary. See etcd/go.mod
# for why not Debian's etcd.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="$here/etcd"
version="$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ {print $2; exit}' "$module/go.mod")"
[[ -n "$version" ]] || { echo "build-etcd.sh: no go.etcd.io/etcd/server/v3 in $module/go.mod" >&2; exit 1; }
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}/etcd/$version"
if [[ -x "$cache/etcd" ]]; then
  echo "$cache"
  exit 0
fi
command -v go >/dev/null || { echo "build-etcd.sh: the Go toolchain is required" >&2; exit 1; }
mkdir -p "$cache"
echo "build-etcd.sh: building etcd $version (first run only; takes about a minute)" >&2
cd "$module"
# Built to a temporary name and renamed, so an interrupted build never looks finished.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$cache/etcd.tmp" go.etcd.io/etcd/server/v3
mv "$cache/etcd.tmp" "$cache/etcd"
echo "$cache"
