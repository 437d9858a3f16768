{{- define "etcd.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "etcd") }}{{- end -}}
{{- define "etcd.headless" -}}{{ include "etcd.fullname" . }}-headless{{- end -}}
{{- define "etcd.authSecret" -}}{{ include "dynamo-common.dataPlaneSecret" (dict "ctx" . "service" "etcd" "kind" "auth") }}{{- end -}}
{{- define "etcd.tlsSecret" -}}{{ include "dynamo-common.dataPlaneSecret" (dict "ctx" . "service" "etcd" "kind" "tls") }}{{- end -}}
{{- define "etcd.scheme" -}}{{ ternary "https" "http" .Values.global.etcd.tls.enabled }}{{- end -}}

{{/* initial-cluster: every member's name and peer URL, derived from replicas. */}}
{{- define "etcd.initialCluster" -}}
{{- $members := list -}}
{{- $fullname := include "etcd.fullname" . -}}
{{- $peerDomain := include "dynamo-common.serviceHost" (dict "ctx" . "name" (include "etcd.headless" .)) -}}
{{- range $i := until (int .Values.replicas) -}}
{{- $members = append $members (printf "%s-%d=%s://%s-%d.%s:%d" $fullname $i (include "etcd.scheme" $) $fullname $i $peerDomain (int $.Values.peerPort)) -}}
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
      value: {{ printf "%s://%s:%d" (include "etcd.scheme" $ctx) (include "etcd.fullname" $ctx) (int $ctx.Values.global.etcd.clientPort) }}
    - name: ROOT_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ include "etcd.authSecret" $ctx }}
          key: {{ $ctx.Values.global.etcd.auth.secretKey }}
    {{- if $ctx.Values.global.etcd.tls.enabled }}
    - name: ETCDCTL_CACERT
      value: /etc/etcd/tls/ca.crt
    - name: ETCDCTL_CERT
      value: /etc/etcd/tls/tls.crt
    - name: ETCDCTL_KEY
      value: /etc/etcd/tls/tls.key
  volumeMounts:
    - name: tls
      mountPath: /etc/etcd/tls
      readOnly: true
    {{- end }}
  resources:
    {{- toYaml $ctx.Values.resources | nindent 4 }}
  securityContext:
    {{- include "dynamo-common.restrictedContainerSecurityContext" $ctx | nindent 4 }}
{{- end -}}

