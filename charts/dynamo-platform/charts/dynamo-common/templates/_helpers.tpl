{{/*
Shared helpers. Every subchart includes these so that one global setting (registry, tolerations,
pull secrets, security context) reaches every pod the platform creates, hook jobs included.
Callers pass a dict: "ctx" is the chart's root context (.), other keys as documented per helper.
*/}}

{{/* <release>-<name>, truncated to a DNS label. Call with (dict "ctx" . "name" "etcd"). */}}
{{- define "dynamo-common.fullname" -}}
{{- $release := .ctx.Release.Name -}}
{{- if contains .name $release -}}
{{- $release | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" $release .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Immutable subset used in selectors: never add a label here that can change on upgrade. */}}
{{- define "dynamo-common.selectorLabels" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "dynamo-common.labels" -}}
{{ include "dynamo-common.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | default .ctx.Chart.Version | quote }}
app.kubernetes.io/part-of: dynamo-platform
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
Image reference: [registry/]repository(:tag)(@digest). global.imageRegistry replaces every
registry so a mirror needs one setting. Call with (dict "ctx" . "image" .Values.image).
*/}}
{{- define "dynamo-common.image" -}}
{{- $registry := .ctx.Values.global.imageRegistry | default .image.registry -}}
{{- $tag := .image.tag | default .ctx.Chart.AppVersion | toString -}}
{{- $ref := .image.repository -}}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry $ref }}{{ end -}}
{{- if $tag }}{{ $ref = printf "%s:%s" $ref $tag }}{{ end -}}
{{- if .image.digest }}{{ $ref = printf "%s@%s" $ref .image.digest }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/*
Pod-level placement and pull settings: the component's own values merged with global ones.
Tolerations and pull secrets add up; nodeSelector keys of the component win; affinity and
priorityClassName of the component replace the global ones. Call with
(dict "ctx" . "pod" .Values.<component>) where the component map may hold nodeSelector,
tolerations, affinity, imagePullSecrets, priorityClassName, topologySpreadConstraints.
*/}}
{{- define "dynamo-common.podPlacement" -}}
{{- $global := .ctx.Values.global -}}
{{- $pod := .pod | default dict -}}
{{- $nodeSelector := merge (deepCopy ($pod.nodeSelector | default dict)) ($global.nodeSelector | default dict) -}}
{{- $tolerations := concat ($global.tolerations | default list) ($pod.tolerations | default list) | uniq -}}
{{- $affinity := $pod.affinity | default $global.affinity -}}
{{- $pullSecrets := concat ($global.imagePullSecrets | default list) ($pod.imagePullSecrets | default list) | uniq -}}
{{- $priorityClassName := $pod.priorityClassName | default $global.priorityClassName -}}
{{- with $pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ .name }}
{{- end }}
{{- end }}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $pod.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{/*
Pod security context meeting the "restricted" Pod Security Standard.
Call with (dict "uid" 65532) ; fsGroup follows uid so PVC contents stay writable.
*/}}
{{- define "dynamo-common.restrictedPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "dynamo-common.restrictedContainerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* In-cluster DNS name of a Service: <name>.<namespace>.svc.<clusterDomain>. Call with (dict "ctx" . "name" $svc). */}}
{{- define "dynamo-common.serviceHost" -}}
{{- printf "%s.%s.svc.%s" .name .ctx.Release.Namespace .ctx.Values.global.clusterDomain -}}
{{- end -}}

{{/* Storage class line for a PVC spec: component value, else global.storageClass; "-" means "" (no dynamic provisioning). */}}
{{- define "dynamo-common.storageClass" -}}
{{- $class := .storageClass | default .ctx.Values.global.storageClass -}}
{{- if eq $class "-" }}
storageClassName: ""
{{- else if $class }}
storageClassName: {{ $class }}
{{- end -}}
{{- end -}}

{{/*
Secret holding one generated password, created on first install and reused on every upgrade
(found with lookup) so clients never lose access. Call with
(dict "ctx" . "name" $secretName "key" "password" "component" "nats").
*/}}
{{- define "dynamo-common.generatedSecret" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "dynamo-common.labels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
type: Opaque
data:
  {{ .key }}: {{ get ($existing.data | default dict) .key | default (randAlphaNum 32 | b64enc) }}
{{- end -}}

{{/*
PodDisruptionBudget that keeps a majority of a quorum-based StatefulSet (etcd, NATS JetStream)
available; rendered only for more than one replica. Call with
(dict "ctx" . "name" $fullname "component" "etcd" "replicas" 3).
*/}}
{{- define "dynamo-common.quorumPodDisruptionBudget" -}}
{{- $replicas := int .replicas -}}
{{- if gt $replicas 1 -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "dynamo-common.labels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
spec:
  minAvailable: {{ add (div $replicas 2) 1 }}
  selector:
    matchLabels:
      {{- include "dynamo-common.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 6 }}
{{- end -}}
{{- end -}}
