{{- define "nats.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "nats") }}{{- end -}}
{{- define "nats.headless" -}}{{ include "nats.fullname" . }}-headless{{- end -}}
{{- define "nats.authSecret" -}}{{ include "dynamo-common.dataPlaneSecret" (dict "ctx" . "service" "nats" "kind" "auth") }}{{- end -}}
{{- define "nats.tlsSecret" -}}{{ include "dynamo-common.dataPlaneSecret" (dict "ctx" . "service" "nats" "kind" "tls") }}{{- end -}}


{{/*
Upstream's NATS chart keys, applied in place before a template reads the values: the aliases of
files/upstream-aliases.yaml, then config.cluster: enabled=true is a cluster of config.cluster.replicas
servers (3 unless set), false a single server. Both this chart's replicas (when set) and a cluster
switch that disagree with it fail. Every template calls it first.
*/}}
{{- define "nats.applyUpstream" -}}
{{- include "dynamo-common.applyAliases" (dict "ctx" . "chart" "nats") -}}
{{- $cluster := (.Values.config | default dict).cluster | default dict -}}
{{- if not (kindIs "invalid" $cluster.enabled) -}}
{{- $servers := ternary (int ($cluster.replicas | default 3)) 1 $cluster.enabled -}}
{{- if and (ne (int .Values.replicas) 1) (ne (int .Values.replicas) $servers) -}}
{{- fail (printf "nats.config.cluster (upstream's switch, enabled=%v: %d servers) and nats.replicas=%d disagree: keep one, preferably nats.replicas (1, or >= 3 for a cluster)." $cluster.enabled $servers (int .Values.replicas)) -}}
{{- end -}}
{{- $_ := set .Values "replicas" $servers -}}
{{- end -}}
{{- end -}}
