{{- define "monitoring.labels" -}}
{{ include "dynamo-common.labels" (dict "ctx" . "component" "monitoring" "extra" .Values.labels "extraKey" "monitoring.labels") }}
{{- end -}}

{{/* Prometheus job of a PodMonitor's targets: <namespace>/<PodMonitor name>. Call with (dict "ctx" . "name" "etcd"). */}}
{{- define "monitoring.podMonitorName" -}}{{ include "dynamo-common.fullname" (dict "ctx" .ctx "name" .name) }}{{- end -}}
{{- define "monitoring.podMonitorJob" -}}{{ .ctx.Release.Namespace }}/{{ include "monitoring.podMonitorName" . }}{{- end -}}

{{/* The operator's ServiceMonitor (dynamo-operator metrics.yaml) scrapes its metrics Service; the job is that Service's name. */}}
{{- define "monitoring.operatorJob" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "dynamo-operator") }}-metrics{{- end -}}

{{/* Selector labels a sibling subchart puts on its pods (name = that chart's name). */}}
{{- define "monitoring.siblingSelector" -}}
app.kubernetes.io/name: {{ .chart }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* namespaceSelector of the workload PodMonitors. */}}
{{- define "monitoring.workloadNamespaces" -}}
{{- with .Values.podMonitors.workloadNamespaces }}
matchNames:
  {{- toYaml . | nindent 2 }}
{{- else }}
any: true
{{- end }}
{{- end -}}
