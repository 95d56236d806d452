#!/usr/bin/env bash
# The main job on the local default: apply examples/, wait until every object is Ready, show
# the objects and what exists in the AWS emulator. Expects `make up` to have run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/.local}"
# shellcheck disable=SC1091
source "$dir/env"
venv="${SECURECART_CACHE:-$HOME/.cache/securecart}/venv-moto-5.2.5"

# The bucket, certificate and hosted zone the examples refer to.
"$venv/bin/python" "$root/examples/emulator-setup.py"

kubectl apply -f "$root/examples/00-namespace.yaml" >/dev/null
kubectl apply --server-side -f "$root/examples/" | sed 's/^/  /'
echo "waiting for every object to be Ready..."
kubectl wait --for=condition=Ready vpctier --all -n platform --timeout=180s
kubectl wait --for=condition=Ready privateendpoint --all -n platform --timeout=180s
kubectl wait --for=condition=Ready loadbalancerpolicy --all -n platform --timeout=180s
kubectl wait --for=condition=Ready transitgateway --all -n platform --timeout=180s
kubectl wait --for=condition=Ready vpcpeering --all -n platform --timeout=180s
kubectl wait --for=condition=Ready partnerapi --all -n platform --timeout=180s
kubectl wait --for=condition=Ready globalentrypoint --all -n platform --timeout=180s
echo
kubectl get securecart -n platform -o wide
echo
"$venv/bin/python" "$root/examples/aws-summary.py"
cat <<TXT

The environment stays up to explore:
  source $dir/env               # kubectl and the AWS SDKs now point at the local control plane and emulator
  kubectl describe vpctier shop -n platform
  kubectl describe lbp storefront -n platform
  kubectl describe tgw hub-use1 -n platform   # the hub: route tables, the office VPN, attached VpcTiers
  kubectl describe gep static -n platform     # the edge: CloudFront, its web ACL, Shield and DNS
TXT
# demo-node.sh runs this on a node, which another target stops.
printf '  %-30s# stop everything\n' "${SECURECART_DEMO_DOWN:-make down}"
