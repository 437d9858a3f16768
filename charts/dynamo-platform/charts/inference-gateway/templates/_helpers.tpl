{{/*
InferencePool + endpoint picker + HTTPRoute for one Dynamo model, the shape of the Gateway API
Inference Extension v1.4.0 chart (config/charts/inferencepool and epplib in
sigs.k8s.io/gateway-api-inference-extension@v1.4.0) with the EPP permissions of upstream Dynamo
(deploy/helm/charts/platform/components/operator/templates/epp.yaml @ 8f9507dd), namespaced:
the EPP reads only the pool's namespace. One template per kind.
*/}}

{{/* The namespace of the pool, its picker and route: inference-gateway.namespace, else the release's. */}}
{{- define "inference-gateway.namespace" -}}{{ .Values.namespace | default .Release.Namespace }}{{- end -}}

{{/* Name of the InferencePool and HTTPRoute: <release>-<DGD>. Every object needs it, so the check lives here. */}}
{{- define "inference-gateway.poolName" -}}
{{- if not .Values.pool.dynamoGraphDeployment -}}
{{- fail "inference-gateway.enabled=true needs inference-gateway.pool.dynamoGraphDeployment: the DynamoGraphDeployment whose pods back the InferencePool." -}}
{{- end -}}
{{- include "dynamo-common.fullname" (dict "ctx" . "name" .Values.pool.dynamoGraphDeployment) -}}
{{- end -}}

{{/* Name of the endpoint picker's ServiceAccount, Role, ConfigMap, Service and Deployment. */}}
{{- define "inference-gateway.eppName" -}}{{ printf "%s-epp" (include "inference-gateway.poolName" .) | trunc 63 | trimSuffix "-" }}{{- end -}}

{{- define "inference-gateway.labels" -}}{{ include "dynamo-common.labels" (dict "ctx" . "component" "epp") }}{{- end -}}
{{- define "inference-gateway.selectorLabels" -}}{{ include "dynamo-common.selectorLabels" (dict "ctx" . "component" "epp") }}{{- end -}}
