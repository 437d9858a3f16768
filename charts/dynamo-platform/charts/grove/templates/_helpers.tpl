{{/*
Grove's operator as upstream's chart runs it at v0.1.0-alpha.8 (args, env, config file, RBAC,
webhook Service and Secret), one template per kind. The commits read and every difference kept
are listed in docs/compatibility.md; tests/template/data/upstream-grove.yaml holds the facts a
test checks.
*/}}
{{- define "grove.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "grove-operator") }}{{- end -}}
{{/* Cluster-scoped names carry the release namespace: two releases in two namespaces never collide. */}}
{{- define "grove.clusterRoleName" -}}{{ .Release.Namespace }}-{{ include "grove.fullname" . }}{{- end -}}
{{- define "grove.labels" -}}{{ include "dynamo-common.labels" (dict "ctx" . "component" "operator") }}{{- end -}}
{{- define "grove.selectorLabels" -}}{{ include "dynamo-common.selectorLabels" (dict "ctx" . "component" "operator") }}{{- end -}}

{{/*
Names Grove's operator looks up itself, so they are fixed as in upstream's chart: its certificate
rotator issues the serving certificate for the Service "grove-operator" and patches the CA into
the webhook configurations of these names (operator/internal/controller/cert/cert.go).
*/}}
{{- define "grove.serviceName" -}}grove-operator{{- end -}}
{{- define "grove.webhookSecretName" -}}grove-webhook-server-cert{{- end -}}

{{/* Ports of upstream's values.yaml (config.server.*), the ones the webhooks and probes reach. */}}
{{- define "grove.webhookPort" -}}9443{{- end -}}
{{- define "grove.healthPort" -}}9444{{- end -}}
{{- define "grove.metricsPort" -}}9445{{- end -}}

{{/*
Grove's OperatorConfiguration (operator.config.grove.io/v1alpha1, the config types of
github.com/ai-dynamo/grove/operator/api@v0.1.0-alpha.8), with the values upstream's chart sets.
The kai-scheduler profile is on where this release installs or uses KAI.
*/}}
{{- define "grove.operatorConfig" -}}
apiVersion: operator.config.grove.io/v1alpha1
kind: OperatorConfiguration
runtimeClientConnection:
  qps: 100
  burst: 150
leaderElection:
  enabled: true
  leaseDuration: 15s
  renewDeadline: 10s
  retryPeriod: 2s
  resourceLock: leases
  resourceName: grove-operator-leader-election
  resourceNamespace: {{ .Release.Namespace }}
server:
  webhooks:
    port: {{ include "grove.webhookPort" . }}
    serverCertDir: /etc/grove-operator/webhook-certs
    secretName: {{ include "grove.webhookSecretName" . }}
    certProvisionMode: auto
  healthProbes:
    port: {{ include "grove.healthPort" . }}
  metrics:
    port: {{ include "grove.metricsPort" . }}
controllers:
  podCliqueSet:
    concurrentSyncs: 3
  podClique:
    concurrentSyncs: 3
  podCliqueScalingGroup:
    concurrentSyncs: 3
scheduler:
  defaultProfileName: default-scheduler
  profiles:
    - name: default-scheduler
    {{- if include "dynamo-common.installOrEnabled" (dict "ctx" . "component" "kai-scheduler") }}
    - name: kai-scheduler
    {{- end }}
logLevel: {{ .Values.logLevel }}
logFormat: {{ .Values.logFormat }}
topologyAwareScheduling:
  enabled: false
authorizer:
  enabled: false
network:
  autoMNNVLEnabled: false
{{- end -}}
