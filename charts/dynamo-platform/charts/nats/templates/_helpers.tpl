{{- define "nats.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "nats") }}{{- end -}}
{{- define "nats.headless" -}}{{ include "nats.fullname" . }}-headless{{- end -}}
{{- define "nats.authSecret" -}}{{ .Values.auth.existingSecret | default (printf "%s-auth" (include "nats.fullname" .)) }}{{- end -}}
