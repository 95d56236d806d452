#!/usr/bin/env bash
# Builds the operator image without a container engine, following deploy/Containerfile: the
# release build of securecart-controller for x86_64-unknown-linux-musl (static, no libc to
# ship), Debian's CA bundle, user 65532:65532, port 8080, no shell. Writes an OCI archive:
#
#   deploy/build-image.sh [OUT]     default OUT: target/image/securecart-operator.oci.tar
#
# The image is named securecart-operator:<appVersion of the chart>, the chart's default, so
# `helm install` on a node that imported the archive finds it without a registry (IMAGE_TAG
# sets another tag; it is also the image's version label, so the image ID differs). Push it
# elsewhere with e.g. `skopeo copy oci-archive:OUT docker://<registry>/securecart-operator:<tag>`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/target/image/securecart-operator.oci.tar}"
target=x86_64-unknown-linux-musl
tag="${IMAGE_TAG:-$(awk -F'"' '$1 == "appVersion: " {print $2}' "$root/deploy/helm/securecart-operator/Chart.yaml")}"
[[ -n "$tag" ]] || { echo "build-image.sh: no appVersion in the chart" >&2; exit 1; }

"$root/tests/controlplane/deps-node.sh" image

cd "$root"
t0=$SECONDS
echo "build-image.sh: cargo build --release --locked --target $target -p securecart-controller" >&2
# cc-rs would look for x86_64-linux-musl-gcc; Debian's musl-tools calls it musl-gcc.
CC_x86_64_unknown_linux_musl=musl-gcc \
  cargo build --quiet --release --locked --target "$target" -p securecart-controller
bin="$root/target/$target/release/securecart-controller"
echo "build-image.sh: release build took $((SECONDS - t0))s" >&2

# A static binary has no program interpreter; anything else would not start on scratch.
if readelf -l "$bin" | grep 'Requesting program interpreter' >/dev/null; then
  echo "build-image.sh: $bin is dynamically linked" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
revision="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
SOURCE_DATE_EPOCH="$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)" \
  python3 "$root/deploy/oci-archive.py" --out "$out" --name "securecart-operator:$tag" \
  --user 65532:65532 --entrypoint /securecart-controller --expose 8080 \
  --label "org.opencontainers.image.title=securecart-operator" \
  --label "org.opencontainers.image.version=$tag" \
  --label "org.opencontainers.image.revision=$revision" \
  "$bin=/securecart-controller" \
  /etc/ssl/certs/ca-certificates.crt=/etc/ssl/certs/ca-certificates.crt
echo "$out"
