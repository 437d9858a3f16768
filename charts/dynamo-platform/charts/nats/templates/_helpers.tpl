{{- define "nats.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "nats") }}{{- end -}}
{{- define "nats.headless" -}}{{ include "nats.fullname" . }}-headless{{- end -}}
{{- define "nats.authSecret" -}}{{ include "dynamo-common.dataPlaneSecret" (dict "ctx" . "service" "nats" "kind" "auth") }}{{- end -}}
{{- define "nats.tlsSecret" -}}{{ include "dynamo-common.dataPlaneSecret" (dict "ctx" . "service" "nats" "kind" "tls") }}{{- end -}}

