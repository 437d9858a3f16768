{{- define "lws.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "lws-controller") }}{{- end -}}
{{- define "lws.webhookService" -}}{{ include "lws.fullname" . }}-webhook{{- end -}}
{{- define "lws.webhookSecret" -}}{{ include "lws.fullname" . }}-webhook-cert{{- end -}}
