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
cargo build --quiet -p securecart-controller -p securecart-e2e --bin securecart-bench
export SECURECART_CONTROLLER_BIN="$root/target/debug/securecart-controller"
export SECURECART_ROOT="$root"
export KUBECTL="$(command -v kubectl)"
export SECURECART_E2E_LOGS="$root/target/bench-logs"
"$root/target/debug/securecart-bench"
python3 "$root/tests/bench-goals.py" "$root" >/dev/null
cat "$root/bench/report.md"
