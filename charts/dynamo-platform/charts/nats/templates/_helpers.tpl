{{- define "nats.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "nats") }}{{- end -}}
{{- define "nats.headless" -}}{{ include "nats.fullname" . }}-headless{{- end -}}
{{- define "nats.authSecret" -}}{{ include "dynamo-common.dataPlaneSecret" (dict "ctx" . "service" "nats" "kind" "auth") }}{{- end -}}
{{- define "nats.tlsSecret" -}}{{ include "dynamo-common.dataPlaneSecret" (dict "ctx" . "service" "nats" "kind" "tls") }}{{- end -}}

{{/* DNS names the NATS certificate must cover: the client Service and every server by name (routes). */}}
{{- define "nats.dnsNames" -}}
{{- $fullname := include "nats.fullname" . -}}
{{- $names := list $fullname (printf "%s.%s" $fullname .Release.Namespace) (printf "%s.%s.svc" $fullname .Release.Namespace) (include "dynamo-common.serviceHost" (dict "ctx" . "name" $fullname)) -}}
{{- $names = append $names (printf "*.%s" (include "dynamo-common.serviceHost" (dict "ctx" . "name" (include "nats.headless" .)))) -}}
{{- append $names "localhost" | toJson -}}
{{- end -}}
