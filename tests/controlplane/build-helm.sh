#!/usr/bin/env bash
# Builds helm from its Go module at a pinned version (never a prebuilt binary), once, into a
# cache outside the work tree. Prints the directory holding the binary.
set -euo pipefail
version=v3.21.4
# The Kubernetes version helm assumes without a cluster (template, lint) is its client-go's,
# 0.36 -> 1.36, set the way helm's own Makefile sets it.
k8s_minor=36
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}/helm/$version-k8s1.$k8s_minor"
if [[ -x "$cache/helm" ]]; then
  echo "$cache"
  exit 0
fi
command -v go >/dev/null || { echo "build-helm.sh: the Go toolchain is required" >&2; exit 1; }
echo "build-helm.sh: building helm $version (first run only; takes a few minutes)" >&2
mkdir -p "$cache"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
GOBIN="$cache" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$version"
[[ -x "$cache/helm" ]] || { echo "build-helm.sh: helm missing after go install" >&2; exit 1; }
echo "$cache"
