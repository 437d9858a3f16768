{{/*
KAI Scheduler's components (scheduler, binder, pod-grouper; .Values.components), each with its
own ServiceAccount and Deployment, bound to one shared ClusterRole; plus the default queues.
*/}}
{{/* <release>-kai-<component>. Call with (dict "ctx" . "component" "scheduler"). */}}
{{- define "kai-scheduler.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" .ctx "name" (printf "kai-%s" .component)) }}{{- end -}}
{{/* The ClusterRole all components share; cluster-scoped, so it carries the release namespace. */}}
{{- define "kai-scheduler.clusterRoleName" -}}{{ .Release.Namespace }}-{{ include "dynamo-common.fullname" (dict "ctx" . "name" "kai-scheduler") }}{{- end -}}
