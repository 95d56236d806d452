#!/usr/bin/env bash
# `make bench`: starts a private control plane and emulator, runs the benchmark scenarios
# against the controller, writes bench/report.md and bench/report.json, stops everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(mktemp -d -t securecart-bench.XXXXXX)"
cleanup() {
  "$root/tests/controlplane/env.sh" down "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"$root/tests/controlplane/env.sh" up "$dir"
# shellcheck disable=SC1091
source "$dir/env"
cd "$root"
# The controller as users run it unless BENCH_BUILD=debug: the image's binary, the static musl
# release build (its allocator and its code pages are part of what the memory figures measure),
# built as deploy/build-image.sh builds it, so the two share their artifacts. The bench driver
# itself is a debug build.
build="${BENCH_BUILD:-release}"
if [[ "$build" == release ]]; then
  "$root/tests/controlplane/deps-node.sh" image
  CC_x86_64_unknown_linux_musl=musl-gcc \
    cargo build --quiet --release --locked --target x86_64-unknown-linux-musl -p securecart-controller
  bin="$root/target/x86_64-unknown-linux-musl/release/securecart-controller"
else
  cargo build --quiet -p securecart-controller
  bin="$root/target/debug/securecart-controller"
fi
cargo build --quiet -p securecart-e2e --bin securecart-bench
export BENCH_BUILD="$build"
# SECURECART_CONTROLLER_BIN runs the scenarios against another build (an older commit, say).
export SECURECART_CONTROLLER_BIN="${SECURECART_CONTROLLER_BIN:-$bin}"
export SECURECART_ROOT="$root"
export KUBECTL="$(command -v kubectl)"
export SECURECART_E2E_LOGS="$root/target/bench-logs"
"$root/target/debug/securecart-bench"
python3 "$root/tests/bench-goals.py" "$root" >/dev/null
cat "$root/bench/report.md"
