{{- define "etcd.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "etcd") }}{{- end -}}
{{- define "etcd.headless" -}}{{ include "etcd.fullname" . }}-headless{{- end -}}
{{- define "etcd.authSecret" -}}{{ .Values.auth.existingSecret | default (printf "%s-auth" (include "etcd.fullname" .)) }}{{- end -}}

{{/* initial-cluster: every member's name and peer URL, derived from replicas. */}}
{{- define "etcd.initialCluster" -}}
{{- $members := list -}}
{{- $fullname := include "etcd.fullname" . -}}
{{- $peerDomain := include "dynamo-common.serviceHost" (dict "ctx" . "name" (include "etcd.headless" .)) -}}
{{- range $i := until (int .Values.replicas) -}}
{{- $members = append $members (printf "%s-%d=http://%s-%d.%s:%d" $fullname $i $fullname $i $peerDomain (int $.Values.peerPort)) -}}
{{- end -}}
{{- join "," $members -}}
{{- end -}}

{{/* One etcdctl call as a container of the auth job. Call with (dict "ctx" . "step" (list name args...)). */}}
{{- define "etcd.etcdctlContainer" -}}
{{- $ctx := .ctx -}}
- name: {{ first .step }}
  image: {{ include "dynamo-common.image" (dict "ctx" $ctx "image" $ctx.Values.image) }}
  command: ["/usr/local/bin/etcdctl"]
  args: {{ rest .step | toJson }}
  env:
    - name: ETCDCTL_ENDPOINTS
      value: {{ printf "http://%s:%d" (include "etcd.fullname" $ctx) (int $ctx.Values.clientPort) }}
    - name: ROOT_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ include "etcd.authSecret" $ctx }}
          key: {{ $ctx.Values.auth.secretKey }}
  resources:
    {{- toYaml $ctx.Values.resources | nindent 4 }}
  securityContext:
    {{- include "dynamo-common.restrictedContainerSecurityContext" $ctx | nindent 4 }}
{{- end -}}
