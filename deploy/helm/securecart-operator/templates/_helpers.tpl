{{- define "securecart.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "securecart.serviceAccountName" -}}
{{- default (include "securecart.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "securecart.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "securecart.labels" -}}
{{ include "securecart.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
The rules on the custom resources; a ClusterRole or, with watchNamespace, a Role. Only what the
controller calls: it watches (list, watch), reads references (get), adds and removes its
finalizer with a patch, applies status server-side (patch on status) and records events. It
never updates objects, sets owner references or touches finalizers through the subresource.
*/}}
{{- define "securecart.resourceRules" -}}
- apiGroups: ["net.securecart.io"]
  resources: ["vpctiers", "loadbalancerpolicies", "privateendpoints", "transitgateways", "vpcpeerings", "partnerapis", "globalentrypoints"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["net.securecart.io"]
  resources: ["vpctiers/status", "loadbalancerpolicies/status", "privateendpoints/status", "transitgateways/status", "vpcpeerings/status", "partnerapis/status", "globalentrypoints/status"]
  verbs: ["patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}
