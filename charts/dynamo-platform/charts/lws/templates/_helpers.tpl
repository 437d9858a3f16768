{{/*
The LeaderWorkerSet controller as sigs.k8s.io/lws v0.8.0 ships it (charts/lws in that module):
the same RBAC, Configuration, webhooks and ports, with the chart's naming, placement and
restricted security context, one template per kind. The controller issues its own webhook
certificate (internal cert management) and injects the CA into the two webhook configurations,
whose names it hard-codes (pkg/cert/cert.go), so one LWS serves a whole cluster.
*/}}
{{- define "lws.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "lws-controller") }}{{- end -}}
{{/* Cluster-scoped names carry the release namespace: two releases in two namespaces never collide. */}}
{{- define "lws.clusterRoleName" -}}{{ printf "%s-%s" .Release.Namespace (include "lws.fullname" .) | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "lws.labels" -}}{{ include "dynamo-common.labels" (dict "ctx" . "component" "controller") }}{{- end -}}
{{- define "lws.selectorLabels" -}}{{ include "dynamo-common.selectorLabels" (dict "ctx" . "component" "controller") }}{{- end -}}
{{- define "lws.webhookService" -}}{{ include "lws.fullname" . }}-webhook{{- end -}}
{{- define "lws.webhookSecret" -}}{{ include "lws.fullname" . }}-webhook-cert{{- end -}}
