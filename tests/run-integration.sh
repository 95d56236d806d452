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
SECURECART_IT_ENV="$dir" tests/deploy-check.sh

# Least privilege, proven: the controllers of every test run as the chart's ServiceAccount,
# with its RBAC as rendered from the chart and a token from the TokenRequest API.
export SECURECART_OPERATOR_NAMESPACE=securecart-system
helm="$(tests/controlplane/build-helm.sh)/helm"
"$helm" template securecart-operator deploy/helm/securecart-operator --namespace "$SECURECART_OPERATOR_NAMESPACE" \
  --show-only templates/serviceaccount.yaml --show-only templates/rbac.yaml | kubectl apply -f - >/dev/null
token="$(kubectl create token securecart-operator --namespace "$SECURECART_OPERATOR_NAMESPACE" --duration 2h)"
export SECURECART_CONTROLLER_KUBECONFIG="$dir/controller.kubeconfig"
(
  umask 077
  cat >"$SECURECART_CONTROLLER_KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: securecart-test
  cluster:
    server: $(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
    certificate-authority-data: $(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
users:
- name: securecart-operator
  user:
    token: $token
contexts:
- name: securecart-operator
  context:
    cluster: securecart-test
    user: securecart-operator
    namespace: $SECURECART_OPERATOR_NAMESPACE
current-context: securecart-operator
EOF
)

# With securecart-e2e on the command line, cargo resolves the features the tests are built
# with, so the controller and the tests share one build of their dependencies.
cargo build --quiet -p securecart-controller -p securecart-e2e
export SECURECART_CONTROLLER_BIN="$root/target/debug/securecart-controller"
export KUBECTL="$(command -v kubectl)"
export SECURECART_E2E_LOGS="$root/target/e2e-logs"
# Fault proxies started by the tests (tests/controlplane/faults.sh) live in this environment,
# so the cleanup's `env.sh down` stops any a failed test left.
export SECURECART_ENV_DIR="$dir"
rm -rf "$SECURECART_E2E_LOGS"
# The crash-safety tests under faults (tests/e2e/tests/faults.rs) run with the rest;
# SECURECART_FAULT_TESTS=0 leaves them out (e.g. to bisect a failure without the proxy).
[[ "${SECURECART_FAULT_TESTS:-1}" == 0 ]] && skip=(--skip crash_safety::) || skip=()
cargo test -p securecart-e2e -- --test-threads="${IT_THREADS:-8}" "${skip[@]}" "$@"
