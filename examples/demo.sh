#!/usr/bin/env bash
# The main job on the local default: apply examples/, wait until every object is Ready, show
# the objects and what exists in the AWS emulator. Expects `make up` to have run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/.local}"
# shellcheck disable=SC1091
source "$dir/env"
venv="${SECURECART_CACHE:-$HOME/.cache/securecart}/venv-moto-5.2.5"

# The flow-log bucket of examples/vpctier-shop.yaml must exist in the emulator (in a real
# account it is the user's own bucket).
curl -fsS -X PUT "$AWS_ENDPOINT_URL/shop-flow-logs" >/dev/null
# The storefront's certificate and hosted zone (a real account has its own ACM certificate and zone).
"$venv/bin/python" - <<'PY'
import boto3
iam = boto3.client("iam", region_name="us-east-1")
if not any(c["ServerCertificateName"] == "shop-demo" for c in iam.list_server_certificates()["ServerCertificateMetadataList"]):
    iam.upload_server_certificate(ServerCertificateName="shop-demo", CertificateBody="demo", PrivateKey="demo")
r53 = boto3.client("route53", region_name="us-east-1")
if not any(z["Name"] == "shop.example." for z in r53.list_hosted_zones_by_name(DNSName="shop.example")["HostedZones"]):
    r53.create_hosted_zone(Name="shop.example", CallerReference="securecart-demo-shop.example")
PY

kubectl apply -f "$root/examples/00-namespace.yaml" >/dev/null
kubectl apply --server-side -f "$root/examples/" | sed 's/^/  /'
echo "waiting for every object to be Ready..."
kubectl wait --for=condition=Ready vpctier --all -n platform --timeout=180s
kubectl wait --for=condition=Ready privateendpoint --all -n platform --timeout=180s
kubectl wait --for=condition=Ready loadbalancerpolicy --all -n platform --timeout=180s
kubectl wait --for=condition=Ready transitgateway --all -n platform --timeout=180s
kubectl wait --for=condition=Ready vpcpeering --all -n platform --timeout=180s
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
  make down                     # stop everything
TXT
