{{- define "snapshot.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "snapshot-agent") }}{{- end -}}
{{- define "snapshot.socket" -}}
{{- if .Values.runtime.socket }}{{ .Values.runtime.socket }}
{{- else if eq .Values.runtime.type "crio" }}/var/run/crio/crio.sock
{{- else }}/run/containerd/containerd.sock{{ end -}}
{{- end -}}
{{- define "snapshot.labels" -}}{{ include "dynamo-common.labels" (dict "ctx" . "component" "snapshot-agent") }}{{- end -}}
