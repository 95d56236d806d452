#!/usr/bin/env bash
# Checks deploy/: the Helm chart lints and renders, and the chart and the kustomize base are
# accepted by a real kube-apiserver (`kubectl apply --dry-run=server`); both grant the same RBAC
# rules; the pods are hardened; the CRD copies are current.
#
# Uses the environment in $SECURECART_IT_ENV (a DIR that tests/controlplane/env.sh brought up,
# as tests/run-integration.sh does), or starts a private one and stops it on exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart="$root/deploy/helm/securecart-operator"
base="$root/deploy/kustomize/base"
helm="$("$root/tests/controlplane/build-helm.sh")/helm"
ns=securecart-system

work="$(mktemp -d -t securecart-deploy.XXXXXX)"
own_env=""
cleanup() {
  [[ -z "$own_env" ]] || "$root/tests/controlplane/env.sh" down "$own_env" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -z "${SECURECART_IT_ENV:-}" ]]; then
  own_env="$work/env"
  "$root/tests/controlplane/env.sh" up "$own_env" >/dev/null
  SECURECART_IT_ENV="$own_env"
fi
# shellcheck disable=SC1091
source "$SECURECART_IT_ENV/env"

fail() {
  echo "deploy-check: $*" >&2
  exit 1
}
step() { echo "deploy-check: $*"; }

"$root/deploy/sync-crds.sh" --check

step "helm lint (defaults, and one namespace with IRSA, ServiceMonitor, no PDB and traces)"
"$helm" lint --strict "$chart" >"$work/lint.log" 2>&1 || { cat "$work/lint.log" >&2; fail "helm lint failed"; }
variant=(--set watchNamespace=apps --set aws.roleArn=arn:aws:iam::123456789012:role/securecart
  --set metrics.serviceMonitor.enabled=true --set podDisruptionBudget.enabled=false
  --set traces.otlpEndpoint=http://adot-collector.observability:4318)
"$helm" lint --strict "$chart" "${variant[@]}" >"$work/lint.log" 2>&1 ||
  { cat "$work/lint.log" >&2; fail "helm lint with options failed"; }

step "render: helm template and kubectl kustomize"
"$helm" template securecart-operator "$chart" --namespace "$ns" --include-crds >"$work/helm.yaml"
"$helm" template securecart-operator "$chart" --namespace "$ns" "${variant[@]}" >"$work/helm-variant.yaml"
grep -q '^kind: ServiceMonitor$' "$work/helm-variant.yaml" || fail "metrics.serviceMonitor.enabled renders no ServiceMonitor"
! grep -q '^kind: PodDisruptionBudget$' "$work/helm-variant.yaml" || fail "podDisruptionBudget.enabled=false renders one"
grep -q 'eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/securecart' "$work/helm-variant.yaml" ||
  fail "aws.roleArn does not annotate the ServiceAccount"
grep -q '^kind: Role$' "$work/helm-variant.yaml" && ! grep -q '^kind: ClusterRole$' "$work/helm-variant.yaml" ||
  fail "watchNamespace must give a Role, not a ClusterRole"
grep -q -- '- --otlp-endpoint=http://adot-collector.observability:4318$' "$work/helm-variant.yaml" ||
  fail "traces.otlpEndpoint does not reach the controller's --otlp-endpoint"
! grep -q -- '--otlp-endpoint' "$work/helm.yaml" || fail "the defaults must not export traces"
kubectl kustomize "$base" >"$work/kustomize.yaml"
# The patch the base's kustomization.yaml shows for traces, in an overlay of it.
mkdir "$work/overlay-traces"
cat >"$work/overlay-traces/kustomization.yaml" <<EOF
resources: [$(realpath --relative-to="$work/overlay-traces" "$base")]
patches:
  - target: {kind: Deployment, name: securecart-operator}
    patch: |
      - {op: add, path: /spec/template/spec/containers/0/args/-, value: --otlp-endpoint=http://adot-collector.observability:4318}
EOF
kubectl kustomize "$work/overlay-traces" >"$work/kustomize-traces.yaml"
grep -q -- '- --otlp-endpoint=http://adot-collector.observability:4318$' "$work/kustomize-traces.yaml" ||
  fail "the kustomize base's traces patch does not add --otlp-endpoint"
! grep -q -- '--otlp-endpoint' "$work/kustomize.yaml" || fail "the kustomize base must not export traces"

step "kubectl apply --dry-run=server (chart, kustomize base)"
kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl create namespace apps --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply --dry-run=server -f "$work/helm.yaml" >"$work/apply.log" 2>&1 ||
  { cat "$work/apply.log" >&2; fail "the apiserver refused the chart"; }
# The variant minus the ServiceMonitor, whose CRD (Prometheus Operator) this apiserver lacks.
"$helm" template securecart-operator "$chart" --namespace "$ns" "${variant[@]}" \
  --set metrics.serviceMonitor.enabled=false >"$work/helm-variant.yaml"
kubectl apply --dry-run=server -f "$work/helm-variant.yaml" >"$work/apply.log" 2>&1 ||
  { cat "$work/apply.log" >&2; fail "the apiserver refused the chart with options"; }
kubectl apply --dry-run=server -f "$work/kustomize.yaml" >"$work/apply.log" 2>&1 ||
  { cat "$work/apply.log" >&2; fail "the apiserver refused the kustomize base"; }

# One jsonpath over every rendered object of a kind.
query() {
  local file="$1" path="$2"
  kubectl apply --dry-run=client -o jsonpath="$path" -f "$file" 2>/dev/null
}

step "the chart and the kustomize base grant the same RBAC rules"
rules='{range .items[?(@.kind=="ClusterRole")]}{.rules}{end}{range .items[?(@.kind=="Role")]}{.rules}{end}'
helm_rules="$(query "$work/helm.yaml" "$rules")"
[[ "$helm_rules" == *'"vpctiers/status"'* ]] || fail "no RBAC rules rendered: '$helm_rules'"
[[ "$helm_rules" == "$(query "$work/kustomize.yaml" "$rules")" ]] ||
  fail "RBAC rules differ between deploy/helm and deploy/kustomize"
[[ "$helm_rules" != *'"*"'* ]] || fail "RBAC rules contain a wildcard"

step "pods are hardened in both"
for file in "$work/helm.yaml" "$work/kustomize.yaml"; do
  pod='{range .items[?(@.kind=="Deployment")]}{.spec.template.spec.securityContext.runAsNonRoot}/{.spec.template.spec.securityContext.seccompProfile.type}/{.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem}/{.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation}/{.spec.template.spec.containers[0].securityContext.capabilities.drop}/{.spec.template.spec.containers[0].livenessProbe.httpGet.path}/{.spec.template.spec.containers[0].readinessProbe.httpGet.path}/{.spec.replicas}{end}'
  got="$(query "$file" "$pod")"
  [[ "$got" == 'true/RuntimeDefault/true/false/["ALL"]//healthz//readyz/2' ]] ||
    fail "$(basename "$file"): Deployment hardening/probes/replicas are '$got'"
  grep -q -- '--leader-elect=true' "$file" || fail "$(basename "$file"): leader election is not on"
done
step "ok"
