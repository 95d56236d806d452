#!/usr/bin/env bash
# Builds the pod sandbox ("pause") image the node's containerd needs: Kubernetes' own pause.c
# (from the k8s.io/kubernetes module pinned in go.mod) compiled statically with musl-gcc, in a
# one-layer OCI archive. Cached per version; prints the archive's path. The image is named
# localhost/securecart/pause:<tag>, the sandbox_image node.sh gives containerd.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tag=3.10.1
version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$here/go.mod")"
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}/pause/$tag-$version"
archive="$cache/pause.oci.tar"
if [[ -f "$archive" ]]; then
  echo "$archive"
  exit 0
fi
command -v musl-gcc >/dev/null || { echo "build-pause.sh: musl-gcc missing; run deps-node.sh" >&2; exit 1; }
mkdir -p "$cache"
src="$(cd "$here" && go mod download -json k8s.io/kubernetes | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
# The flags of build/pause/Makefile.
musl-gcc -Os -Wall -Werror -static "-DVERSION=v$tag-securecart" -o "$cache/pause" "$src/build/pause/linux/pause.c"
python3 "$root/deploy/oci-archive.py" --out "$archive.tmp" --name "localhost/securecart/pause:$tag" \
  --user 65535:65535 --entrypoint /pause "$cache/pause=/pause" 2>/dev/null
mv "$archive.tmp" "$archive"
echo "$archive"
