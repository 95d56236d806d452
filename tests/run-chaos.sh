#!/usr/bin/env bash
# `make chaos`: starts a private control plane, emulator and fault proxy, runs the chaos trials
# (tests/e2e/src/bin/securecart-chaos) with the arguments given, writes chaos/report.md and
# chaos/report.json, stops everything. Example: tests/run-chaos.sh --trials 5 --kills 5
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(mktemp -d -t securecart-chaos.XXXXXX)"
cleanup() {
  "$root/tests/controlplane/env.sh" down "$dir" >/dev/null 2>&1 || true
  if [[ "${KEEP_CHAOS_LOGS:-}" == "" ]]; then rm -rf "$dir"; else echo "chaos environment logs kept in $dir"; fi
}
trap cleanup EXIT
"$root/tests/controlplane/env.sh" up "$dir"
# shellcheck disable=SC1091
source "$dir/env"
cd "$root"
# Two commands: `--bin` would narrow a single build to the chaos binary and leave a stale controller.
cargo build --quiet -p securecart-controller
cargo build --quiet -p securecart-e2e --bin securecart-chaos
# SECURECART_CONTROLLER_BIN runs the trials against another build (a release, an older commit).
export SECURECART_CONTROLLER_BIN="${SECURECART_CONTROLLER_BIN:-$root/target/debug/securecart-controller}"
export SECURECART_ROOT="$root"
export SECURECART_ENV_DIR="$dir"
export KUBECTL="$(command -v kubectl)"
export SECURECART_E2E_LOGS="$root/target/chaos-logs"
rm -rf "$SECURECART_E2E_LOGS" "$root/target/chaos"
"$root/target/debug/securecart-chaos" "$@"
