#!/usr/bin/env bash
# Runs the node tests (tests/node): builds the operator image (`make image`) and a second tag of
# it for the upgrade, brings up a real single-node cluster in a temporary directory
# (tests/controlplane/node.sh), imports both images, runs the tests, and takes the node down
# whatever happens, failing if the machine is not left as it was. Node tests never run in
# parallel: a second run waits for the first (the node's ports, addresses and paths are fixed).
#
#   tests/run-node.sh [TEST-FILTER]     KEEP_NODE_LOGS=1 keeps the node's logs in target/node-e2e
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
t0=$SECONDS

mkdir -p /run/lock
exec 8>/run/lock/securecart-node-tests.lock
if ! flock -n 8; then
  echo "run-node.sh: another node test run is in progress; waiting for it"
  flock -w 3600 8 || { echo "run-node.sh: still locked after an hour" >&2; exit 1; }
fi

"$root/tests/controlplane/deps-node.sh" >/dev/null
image="$root/target/image/securecart-operator.oci.tar"
upgrade="$root/target/image/securecart-operator-upgrade.oci.tar"
"$root/deploy/build-image.sh" "$image" >/dev/null
# The same binary as a distinct image (its own config, so its own image ID) under a new tag.
IMAGE_TAG=0.1.0-upgrade "$root/deploy/build-image.sh" "$upgrade" >/dev/null
echo "run-node.sh: images built in $((SECONDS - t0))s"

dir="$(mktemp -d -t securecart-node.XXXXXX)"
logs="$root/target/node-e2e/logs"
cleanup() {
  local rc=$? down=0
  trap - EXIT INT TERM
  # The pods' logs go with the node; keep a copy first when something failed.
  if ((rc != 0)) || [[ -n "${KEEP_NODE_LOGS:-}" ]]; then
    rm -rf "$logs"
    mkdir -p "$logs"
    cp -a "$dir/pod-logs" "$logs/pods" 2>/dev/null || true
  fi
  "$root/tests/controlplane/node.sh" down "$dir" || down=1
  if ((rc != 0 || down != 0)) || [[ -n "${KEEP_NODE_LOGS:-}" ]]; then
    mkdir -p "$logs"
    cp -a "$dir/logs/." "$logs/" 2>/dev/null || true
    echo "run-node.sh: node logs in $logs"
  fi
  rm -rf "$dir"
  if ((down != 0)); then
    echo "run-node.sh: the node's teardown left the machine changed (see above)" >&2
    ((rc != 0)) || rc=1
  fi
  echo "run-node.sh: $( ((rc == 0)) && echo passed || echo FAILED) in $((SECONDS - t0))s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$root/tests/controlplane/node.sh" up "$dir"
"$root/tests/controlplane/node.sh" import "$dir" "$image" "$upgrade"
# shellcheck disable=SC1091
source "$dir/env"
export SECURECART_ROOT="$root"
HELM="$("$root/tests/controlplane/build-helm.sh")/helm"
KUBECTL="$(command -v kubectl)"
SECURECART_PYTHON="${SECURECART_CACHE:-$HOME/.cache/securecart}/venv-moto-5.2.5/bin/python"
export HELM KUBECTL SECURECART_PYTHON
cd "$root"
# anyhow errors stay short (a failed step says what it waited for); panics keep RUST_BACKTRACE.
export RUST_LIB_BACKTRACE=0
cargo test --quiet -p securecart-node-e2e -- --test-threads=1 --nocapture "$@"
