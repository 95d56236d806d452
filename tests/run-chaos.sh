#!/usr/bin/env bash
# `make chaos`: starts a private control plane, emulator and fault proxy, runs the chaos trials
# (tests/e2e/src/bin/securecart-chaos) with the arguments given, writes chaos/report.md and
# chaos/report.json, stops everything. Example: tests/run-chaos.sh --trials 5 --kills 5
# CHAOS_LANES=N runs the trials in N lanes side by side, each with its own control plane,
# emulator and proxy (trials k, k+N, ...), then merges their reports into one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lanes="${CHAOS_LANES:-1}"
dirs=()
cleanup() {
  for dir in "${dirs[@]}"; do
    "$root/tests/controlplane/env.sh" down "$dir" >/dev/null 2>&1 || true
    if [[ "${KEEP_CHAOS_LOGS:-}" == "" ]]; then rm -rf "$dir"; else echo "chaos environment logs kept in $dir"; fi
  done
}
trap cleanup EXIT
cd "$root"
# Two commands: `--bin` would narrow a single build to the chaos binary and leave a stale controller.
cargo build --quiet -p securecart-controller
cargo build --quiet -p securecart-e2e --bin securecart-chaos
# SECURECART_CONTROLLER_BIN runs the trials against another build (a release, an older commit).
export SECURECART_CONTROLLER_BIN="${SECURECART_CONTROLLER_BIN:-$root/target/debug/securecart-controller}"
export SECURECART_ROOT="$root"
rm -rf "$root/target/chaos-logs" "$root/target/chaos"
for ((k = 0; k < lanes; k++)); do
  dirs+=("$(mktemp -d -t securecart-chaos.XXXXXX)")
done

# One lane: its own environment, its own logs; the chaos binary's arguments follow.
run_lane() {
  local dir="$1"
  shift
  "$root/tests/controlplane/env.sh" up "$dir"
  (
    # shellcheck disable=SC1091
    source "$dir/env"
    export SECURECART_ENV_DIR="$dir"
    KUBECTL="$(command -v kubectl)"
    export KUBECTL
    "$root/target/debug/securecart-chaos" "$@"
  )
}

if ((lanes == 1)); then
  export SECURECART_E2E_LOGS="$root/target/chaos-logs"
  run_lane "${dirs[0]}" "$@"
  exit 0
fi
pids=()
for ((k = 0; k < lanes; k++)); do
  SECURECART_E2E_LOGS="$root/target/chaos-logs/lane-$k" run_lane "${dirs[$k]}" "$@" --lane "$k/$lanes" \
    >"${dirs[$k]}.out" 2>&1 &
  pids+=("$!")
  sleep 3 # environments pick free ports; starting them apart keeps two from taking the same one
done
failed=0
for ((k = 0; k < lanes; k++)); do
  if ! wait "${pids[$k]}"; then
    echo "chaos: lane $k failed; its output:" >&2
    tail -20 "${dirs[$k]}.out" >&2
    failed=1
  fi
  rm -f "${dirs[$k]}.out"
done
# The merged report and its verdict (with --assert) cover every trial, whatever a lane said.
"$root/target/debug/securecart-chaos" "$@" --merge-lanes || exit 1
exit "$failed"
