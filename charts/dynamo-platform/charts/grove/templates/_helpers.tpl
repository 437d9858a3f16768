{{- define "grove.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "grove-operator") }}{{- end -}}
