#!/usr/bin/env bash
# Runs the integration tests against a control plane and emulator of their own: started in a
# temporary directory on free ports, stopped and removed on exit, whatever happens.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(mktemp -d -t securecart-it.XXXXXX)"
cleanup() {
  "$root/tests/controlplane/env.sh" down "$dir" >/dev/null 2>&1 || true
  if [[ "${KEEP_IT_LOGS:-}" == "" ]]; then rm -rf "$dir"; else echo "integration logs kept in $dir"; fi
}
trap cleanup EXIT
"$root/tests/controlplane/env.sh" up "$dir"
# shellcheck disable=SC1091
source "$dir/env"
cd "$root"
cargo build --quiet -p securecart-controller
export SECURECART_CONTROLLER_BIN="$root/target/debug/securecart-controller"
export KUBECTL="$(command -v kubectl)"
export SECURECART_E2E_LOGS="$root/target/e2e-logs"
rm -rf "$SECURECART_E2E_LOGS"
cargo test -p securecart-e2e -- --test-threads="${IT_THREADS:-8}" "$@"
