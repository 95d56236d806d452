#!/usr/bin/env bash
# Builds Kubernetes binaries from Go modules (go.mod here pins the release), once per version,
# into a cache outside the work tree. Prints the directory holding the binaries.
#   build.sh [TOOL...]   default: kube-apiserver kubectl (build-node.sh asks for the node's)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$here/go.mod")"
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}/kubernetes/$version"
tools=("$@")
((${#tools[@]})) || tools=(kube-apiserver kubectl)
missing=()
for tool in "${tools[@]}"; do [[ -x "$cache/$tool" ]] || missing+=("$tool"); done
if ((${#missing[@]} == 0)); then
  echo "$cache"
  exit 0
fi
command -v go >/dev/null || { echo "build.sh: the Go toolchain is required" >&2; exit 1; }
mkdir -p "$cache"
minor="${version#v1.}"; minor="${minor%%.*}"
stamp="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$stamp"
done
cd "$here"
for tool in "${missing[@]}"; do
  echo "build.sh: building $tool $version (first run only; takes several minutes)" >&2
  # Built to a temporary name and renamed, so an interrupted build never looks finished.
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$cache/$tool.tmp" "k8s.io/kubernetes/cmd/$tool"
  mv "$cache/$tool.tmp" "$cache/$tool"
done
echo "$cache"
