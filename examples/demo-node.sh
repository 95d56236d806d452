#!/usr/bin/env bash
# The main job on a real node: the operator installed with its Helm chart from the image that
# `make image` built, running as two pods; then examples/ applied and every object Ready
# through those pods. Expects `make up-node` to have run (make demo-node does both).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/.local-node}"
# shellcheck disable=SC1091
source "$dir/env"
helm="$("$root/tests/controlplane/build-helm.sh")/helm"
ns=securecart-system

kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
# Static credentials from a Secret, as outside EKS; the endpoint is the emulator's on the node.
kubectl -n "$ns" create secret generic aws-credentials --dry-run=client -o yaml \
  --from-literal=AWS_ACCESS_KEY_ID=testing --from-literal=AWS_SECRET_ACCESS_KEY=testing | kubectl apply -f - >/dev/null
echo "helm upgrade --install securecart-operator deploy/helm/securecart-operator (AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL)"
"$helm" upgrade --install securecart-operator "$root/deploy/helm/securecart-operator" --namespace "$ns" \
  --set extraEnv[0].name=AWS_ENDPOINT_URL --set-string "extraEnv[0].value=$AWS_ENDPOINT_URL" \
  --set 'extraEnvFrom[0].secretRef.name=aws-credentials' --wait --timeout 3m | sed 's/^/  /'
kubectl -n "$ns" get pods -o wide
echo "leader: $(kubectl -n "$ns" get lease securecart-operator-leader -o jsonpath='{.spec.holderIdentity}')"
echo
SECURECART_DEMO_DOWN="make down-node" "$root/examples/demo.sh" "$dir"
