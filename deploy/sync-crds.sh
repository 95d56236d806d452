#!/usr/bin/env bash
# Copies the generated CRDs (crds/) into the Helm chart and the kustomize base, so neither
# can go stale: `sync-crds.sh` writes the copies (run by `make crds`), `sync-crds.sh --check`
# fails when a copy differs, is missing or is extra (run by `make crds-check`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart="$root/deploy/helm/securecart-operator/crds"
base="$root/deploy/kustomize/base/crds"
check=0
[[ "${1:-}" == "--check" ]] && check=1

# The kustomization that lists the CRD files, as it should be.
kustomization() {
  echo "# Written by deploy/sync-crds.sh from crds/. Do not edit."
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  local f
  for f in "$root"/crds/*.yaml; do echo "  - $(basename "$f")"; done
}

if ((check)); then
  stale=0
  for dir in "$chart" "$base"; do
    if ! diff -r -q -x kustomization.yaml "$root/crds" "$dir" >&2; then stale=1; fi
  done
  if ! diff -q <(kustomization) "$base/kustomization.yaml" >/dev/null 2>&1; then
    echo "$base/kustomization.yaml does not list exactly crds/*.yaml" >&2
    stale=1
  fi
  if ((stale)); then
    echo "sync-crds.sh: the chart's or the kustomize base's CRDs are stale; run \`make crds\` and commit" >&2
    exit 1
  fi
  exit 0
fi
for dir in "$chart" "$base"; do
  mkdir -p "$dir"
  find "$dir" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml -delete
  cp "$root"/crds/*.yaml "$dir/"
done
kustomization >"$base/kustomization.yaml"
echo "copied $(ls "$root"/crds/*.yaml | wc -l) CRD(s) into the chart and the kustomize base"
