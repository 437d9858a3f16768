{{- define "dynamo-operator.fullname" -}}{{ include "dynamo-common.fullname" (dict "ctx" . "name" "dynamo-operator") }}{{- end -}}
{{- define "dynamo-operator.webhookService" -}}{{ include "dynamo-operator.fullname" . }}-webhook{{- end -}}
{{/*
--operator-version: semver, as the operator requires (it exits otherwise). The image tag when it is
one (a pinned patch release), else the chart's appVersion.
*/}}
{{- define "dynamo-operator.version" -}}
{{- $tag := .Values.controllerManager.manager.image.tag | toString | trimPrefix "v" -}}
{{- if regexMatch "^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$" $tag }}{{ $tag }}{{ else }}{{ .Chart.AppVersion }}{{ end -}}
{{- end -}}
{{- define "dynamo-operator.webhookCertDir" -}}/tmp/k8s-webhook-server/serving-certs{{- end -}}
{{/* An external Secret is used by its exact name; a chart-managed one is prefixed with the release. */}}
{{- define "dynamo-operator.webhookSecret" -}}
{{- $name := .Values.webhook.certificateSecret.name -}}
{{- if .Values.webhook.certificateSecret.external }}{{ $name }}{{ else }}{{ printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}{{ end -}}
{{- end -}}
{{/*
The webhook serving certificate the chart generates (generated mode), made once per render so the
Secret, the admission webhooks and the CRDs' conversion webhook share one CA. Returns Secret YAML.
*/}}
{{- define "dynamo-operator.generatedWebhookSecret" -}}
{{- $cache := .Values.webhook -}}
{{- if not (hasKey $cache "generatedSecret") -}}
{{- $service := include "dynamo-operator.webhookService" . -}}
{{- $dnsNames := list $service (printf "%s.%s.svc" $service .Release.Namespace) (include "dynamo-common.serviceHost" (dict "ctx" . "name" $service)) -}}
{{- $secret := include "dynamo-common.generatedTLSSecret" (dict "ctx" . "name" (include "dynamo-operator.webhookSecret" .) "component" "manager" "commonName" $service "dnsNames" $dnsNames "instead" "dynamo-operator.webhook.certManager.enabled=true (with issuerRef.name), or dynamo-operator.webhook.certificateSecret.external=true with its caBundle") -}}
{{- $_ := set $cache "generatedSecret" $secret -}}
{{- end -}}
{{- $cache.generatedSecret -}}
{{- end -}}

{{/* caBundle the API server trusts for the operator's webhooks; empty under cert-manager (its CA injector sets it). */}}
{{- define "dynamo-operator.webhookCABundle" -}}
{{- $wh := .Values.webhook -}}
{{- if $wh.certificateSecret.external -}}{{ $wh.certificateSecret.caBundle }}
{{- else if not $wh.certManager.enabled -}}{{ index (include "dynamo-operator.generatedWebhookSecret" . | fromYaml).data "ca.crt" }}
{{- end -}}
{{- end -}}

{{/* Annotation that has cert-manager's CA injector fill caBundle from the webhook Certificate. */}}
{{- define "dynamo-operator.certManagerInjectAnnotation" -}}
{{- if .Values.webhook.certManager.enabled -}}
cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include "dynamo-operator.fullname" . }}-webhook
{{- end -}}
{{- end -}}

{{/* The leader-election Lease: upstream's leaderElection.id and .namespace keys, else one per release in its namespace. */}}
{{- define "dynamo-operator.leaderElectionID" -}}{{ .Values.controllerManager.leaderElection.id | default (printf "%s.nvidia.com" (include "dynamo-operator.fullname" .)) }}{{- end -}}
{{- define "dynamo-operator.leaderElectionNamespace" -}}{{ .Values.controllerManager.leaderElection.namespace | default .Release.Namespace }}{{- end -}}
{{/*
Extra manager flags (controllerManager.manager.args) as list items. Upstream's values file lists
--health-probe-bind-address and --metrics-bind-address there, but upstream's chart never passes
them (its operator takes only --config, --operator-version and zap's flags): those two are dropped
at upstream's default values and refused otherwise, naming the keys that set the ports.
*/}}
{{- define "dynamo-operator.managerArgs" -}}
{{- $upstreamDefaults := list "--health-probe-bind-address=:8081" "--metrics-bind-address=127.0.0.1:8080" -}}
{{- range .Values.controllerManager.manager.args -}}
{{- if not (has . $upstreamDefaults) -}}
{{- if or (hasPrefix "--health-probe-bind-address" .) (hasPrefix "--metrics-bind-address" .) -}}
{{- fail (printf "dynamo-operator.controllerManager.manager.args: %s is no flag of the operator (it reads its addresses from its config file). Set dynamo-operator.controllerManager.healthProbePort or dynamo-operator.metricsService.port instead." .) -}}
{{- end }}
- {{ . | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "dynamo-operator.targetNamespace" -}}{{ .Values.namespaceRestriction.targetNamespace | default .Release.Namespace }}{{- end -}}

{{/* Cluster-scoped objects carry the namespace so installs in two namespaces never collide. */}}
{{- define "dynamo-operator.clusterName" -}}{{ printf "%s-%s" .Release.Namespace (include "dynamo-operator.fullname" .) | trunc 63 | trimSuffix "-" }}{{- end -}}

{{/*
ClusterRoles the operator binds, by RoleBinding, to the planner, DGDR-profiling and EPP
ServiceAccounts in workload namespaces (cluster-wide mode; config.yaml names them in rbac.*).
*/}}
{{- define "dynamo-operator.plannerClusterRole" -}}{{ include "dynamo-operator.clusterName" . }}-planner{{- end -}}
{{- define "dynamo-operator.dgdrProfilingClusterRole" -}}{{ include "dynamo-operator.clusterName" . }}-dgdr-profiling{{- end -}}
{{- define "dynamo-operator.eppClusterRole" -}}{{ include "dynamo-operator.clusterName" . }}-epp{{- end -}}

{{/*
What planner pods may do: upstream's planner.yaml (ai-dynamo/dynamo 9d7427f4), the same rules for
its ClusterRole and its namespace-restricted Role. Pods: patch for the GPU power-limit
annotation, get/list to find worker and frontend pods (no watch: the planner lists, it has no
informer).
*/}}
{{- define "dynamo-operator.plannerRules" -}}
- apiGroups: ["nvidia.com"]
  resources: ["dynamocomponentdeployments", "dynamographdeployments"]
  verbs: ["get", "list", "create", "update", "patch"]
- apiGroups: ["nvidia.com"]
  resources: ["dynamographdeploymentscalingadapters/scale"]
  verbs: ["patch"]
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["nvidia.com"]
  resources: ["dynamoworkermetadatas"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "patch"]
{{- end -}}

{{/*
What DGDR profiling Jobs may do: upstream's profiling-job-rbac.yaml (ai-dynamo/dynamo 14ffd4c1, in
the older deploy/cloud/helm chart; no copy is stored in the 1.3 chart's tree): save results in a
ConfigMap, read the DGDR, create and watch trial DGDs, read their pods and logs. Upstream's nodes
read is left out: a RoleBinding cannot grant a cluster-scoped resource, and the 1.3 operator
discovers GPUs itself.
*/}}
{{- define "dynamo-operator.dgdrProfilingRules" -}}
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["create", "get", "update", "patch", "delete"]
- apiGroups: ["nvidia.com"]
  resources: ["dynamographdeploymentrequests"]
  verbs: ["get"]
- apiGroups: ["nvidia.com"]
  resources: ["dynamographdeployments"]
  verbs: ["get", "create", "delete", "list", "watch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "get", "create", "delete"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
{{- end -}}

{{/* What EPP (endpoint picker) pods may do: upstream's epp.yaml (ai-dynamo/dynamo 8f9507dd), read-only. */}}
{{- define "dynamo-operator.eppRules" -}}
- apiGroups: ["inference.networking.k8s.io"]
  resources: ["inferencepools", "inferencepools/status"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["nvidia.com"]
  resources: ["dynamoworkermetadatas"]
  verbs: ["get", "list", "watch"]
{{- end -}}

{{- define "dynamo-operator.labels" -}}{{ include "dynamo-common.labels" (dict "ctx" . "component" "manager") }}{{- end -}}
{{- define "dynamo-operator.selectorLabels" -}}{{ include "dynamo-common.selectorLabels" (dict "ctx" . "component" "manager") }}{{- end -}}

{{/* etcd endpoints the workloads get: the bundled etcd, else the external value, else none; never both. */}}
{{- define "dynamo-operator.etcdEndpoints" -}}
{{- if and .Values.global.etcd.install .Values.dynamo.etcd.endpoints -}}
{{- fail "global.etcd.install=true deploys etcd for the workloads, and dynamo-operator.dynamo.etcd.endpoints (upstream: dynamo-operator.etcdAddr) points them at another one: keep one. Unset the endpoints to use the bundled etcd, or set global.etcd.install=false to use the external one." -}}
{{- end -}}
{{- if .Values.global.etcd.install -}}
{{- $etcd := include "dynamo-common.fullname" (dict "ctx" . "name" "etcd") -}}
{{- printf "%s://%s:%d" (ternary "https" "http" .Values.global.etcd.tls.enabled) (include "dynamo-common.serviceHost" (dict "ctx" . "name" $etcd)) (int .Values.global.etcd.clientPort) -}}
{{- else -}}
{{- .Values.dynamo.etcd.endpoints -}}
{{- end -}}
{{- end -}}

{{- define "dynamo-operator.natsURL" -}}
{{- if and .Values.global.nats.install .Values.dynamo.nats.url -}}
{{- fail "global.nats.install=true deploys NATS for the workloads, and dynamo-operator.dynamo.nats.url (upstream: dynamo-operator.natsAddr) points them at another one: keep one. Unset the URL to use the bundled NATS, or set global.nats.install=false to use the external one." -}}
{{- end -}}
{{- if .Values.global.nats.install -}}
{{- $nats := include "dynamo-common.fullname" (dict "ctx" . "name" "nats") -}}
{{- printf "%s://%s:%d" (ternary "tls" "nats" .Values.global.nats.tls.enabled) (include "dynamo-common.serviceHost" (dict "ctx" . "name" $nats)) (int .Values.global.nats.clientPort) -}}
{{- else -}}
{{- .Values.dynamo.nats.url -}}
{{- end -}}
{{- end -}}

{{/*
The operator's permissions, reviewed rule by rule: Dynamo 1.6's manager role
(tests/template/data/upstream_manager_role.yaml records it, its source and each way this differs;
tests/template/test_rbac.py pins them). Rendered as a ClusterRole, or as a Role in the target
namespace under namespaceRestriction, which leaves out cluster-scoped resources: a Role cannot grant them.
*/}}
{{- define "dynamo-operator.rules" -}}
{{- $all := list "create" "delete" "get" "list" "patch" "update" "watch" }}
# Dynamo's own resources.
- apiGroups: ["nvidia.com"]
  resources:
    - dynamographdeployments
    - dynamocomponentdeployments
    - dynamographdeploymentrequests
    - dynamographdeploymentscalingadapters
    - dynamomodels
    - dynamocheckpoints
    - dynamoworkermetadatas
  verbs: {{ $all | toJson }}
- apiGroups: ["nvidia.com"]
  resources:
    - dynamographdeployments/status
    - dynamocomponentdeployments/status
    - dynamographdeploymentrequests/status
    - dynamographdeploymentscalingadapters/status
    - dynamomodels/status
    - dynamocheckpoints/status
  verbs: ["get", "patch", "update"]
- apiGroups: ["nvidia.com"]
  resources:
    - dynamographdeployments/finalizers
    - dynamocomponentdeployments/finalizers
    - dynamographdeploymentrequests/finalizers
    - dynamomodels/finalizers
    - dynamocheckpoints/finalizers
  verbs: ["update"]
# Checkpoints: the snapshot agent's PodSnapshots and SnapshotJobs.
- apiGroups: ["nvidia.com"]
  resources: ["podsnapshots"]
  verbs: ["delete", "get", "list", "patch", "watch"]
- apiGroups: ["nvidia.com"]
  resources: ["snapshotjobs"]
  verbs: ["create", "delete", "get", "list", "patch", "watch"]
# What the operator creates for each component.
- apiGroups: [""]
  resources: ["configmaps", "events", "services"]
  verbs: {{ $all | toJson }}
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["create", "delete", "get", "list", "watch"]
# Rolling updates and failover replace pods and read their logs.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["delete", "deletecollection", "get", "list", "patch", "watch"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
# Secrets: the MPI SSH-key Secret of multinode DGDs, ensured and copied into each namespace that runs
# one (upstream's dgd_ssh_keys_reconciler.go); never delete. ServiceAccounts: per-DGD discovery.
- apiGroups: [""]
  resources: ["secrets", "serviceaccounts"]
  verbs: ["create", "get", "list", "update", "watch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: {{ $all | toJson }}
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: {{ $all | toJson }}
- apiGroups: ["apps"]
  resources: ["daemonsets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: {{ $all | toJson }}
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: {{ $all | toJson }}
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: {{ $all | toJson }}
- apiGroups: ["networking.istio.io"]
  resources: ["destinationrules", "virtualservices"]
  verbs: {{ $all | toJson }}
- apiGroups: ["inference.networking.k8s.io"]
  resources: ["inferencepools"]
  verbs: {{ $all | toJson }}
# DRA (GPU memory service, failover), where the cluster serves resource.k8s.io.
- apiGroups: ["resource.k8s.io"]
  resources: ["resourceclaims"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["resource.k8s.io"]
  resources: ["resourceclaimtemplates"]
  verbs: {{ $all | toJson }}
# Kubernetes discovery: components get a Role to watch these (upstream's discovery/resource.go),
# which the operator must hold itself or the API server refuses to let it create that Role.
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["endpoints"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles"]
  verbs: ["create", "get", "list", "update", "watch"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["rolebindings"]
  verbs: ["create", "delete", "get", "list", "update", "watch"]
# Leader election and the namespace-scope lease markers of restricted operators.
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: {{ $all | toJson }}
{{- if not .Values.namespaceRestriction.enabled }}
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingressclasses"]
  verbs: {{ $all | toJson }}
- apiGroups: ["resource.k8s.io"]
  resources: ["deviceclasses"]
  verbs: ["get", "list", "watch"]
# The storage-version migrator the operator starts in cluster-wide mode re-writes DGDs, DCDs, DGDRs
# and DGDSAs and then their CRD's status.storedVersions: it may change those four CRDs only (upstream
# grants every CRD).
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions", "customresourcedefinitions/status"]
  resourceNames:
    - dynamocomponentdeployments.nvidia.com
    - dynamographdeployments.nvidia.com
    - dynamographdeploymentrequests.nvidia.com
    - dynamographdeploymentscalingadapters.nvidia.com
  verbs: ["get", "patch", "update"]
# /metrics is served to authorized tokens only (server.metrics.secure): the manager reviews each
# scraper's token and access, as upstream's cmd/main.go declares.
- apiGroups: ["authentication.k8s.io"]
  resources: ["tokenreviews"]
  verbs: ["create"]
- apiGroups: ["authorization.k8s.io"]
  resources: ["subjectaccessreviews"]
  verbs: ["create"]
# RoleBindings in workload namespaces to the planner, DGDR-profiling and EPP ClusterRoles: `bind`
# on exactly those (the API server refuses a binding to a role whose rules the binder lacks, and
# the operator lacks e.g. pods create). Reading ClusterRoles, as upstream's manager role grants.
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["clusterroles"]
  verbs: ["bind"]
  resourceNames:
    - {{ include "dynamo-operator.plannerClusterRole" . }}
    - {{ include "dynamo-operator.dgdrProfilingClusterRole" . }}
    - {{ include "dynamo-operator.eppClusterRole" . }}
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["clusterroles"]
  verbs: ["get", "list", "watch"]
{{- end }}
{{- if include "dynamo-common.installOrEnabled" (dict "ctx" . "component" "grove") }}
- apiGroups: ["grove.io"]
  resources: ["podcliquesets"]
  verbs: {{ $all | toJson }}
- apiGroups: ["grove.io"]
  resources: ["podcliquesets/finalizers"]
  verbs: ["update"]
- apiGroups: ["grove.io"]
  resources: ["podcliques", "podcliquescalinggroups"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["grove.io"]
  resources: ["podcliques/scale", "podcliquescalinggroups/scale"]
  verbs: ["get", "patch", "update"]
{{- if not .Values.namespaceRestriction.enabled }}
- apiGroups: ["grove.io"]
  resources: ["clustertopologybindings"]
  verbs: ["get", "list", "watch"]
{{- end }}
{{- end }}
{{- if include "dynamo-common.installOrEnabled" (dict "ctx" . "component" "lws") }}
# Multinode workloads of DGDs annotated nvidia.com/enable-grove="false" (or with no Grove), as
# upstream's manager role grants; Volcano PodGroups gang-schedule each leader-worker group.
- apiGroups: ["leaderworkerset.x-k8s.io"]
  resources: ["leaderworkersets"]
  verbs: {{ $all | toJson }}
- apiGroups: ["scheduling.volcano.sh"]
  resources: ["podgroups"]
  verbs: {{ $all | toJson }}
{{- end }}
{{- if and (include "dynamo-common.installOrEnabled" (dict "ctx" . "component" "kai-scheduler")) (not .Values.namespaceRestriction.enabled) }}
- apiGroups: ["scheduling.run.ai"]
  resources: ["queues"]
  verbs: ["get", "list"]
{{- end }}
{{- if .Values.dynamo.metrics.prometheusEndpoint }}
- apiGroups: ["monitoring.coreos.com"]
  resources: ["podmonitors"]
  verbs: {{ $all | toJson }}
{{- end }}
{{- end -}}

{{/*
Fails when a component is declared as already installed (enabled=true) but its API is missing
from the cluster. Only checks where the render is connected to a cluster: the release
namespace's default ServiceAccount is found with lookup (an offline render finds nothing).
Call with (dict "ctx" . "api" "grove.io/v1alpha1" "key" "global.grove.enabled" "fix" "...").
*/}}
{{- define "dynamo-operator.requireAPI" -}}
{{- $connected := lookup "v1" "ServiceAccount" .ctx.Release.Namespace "default" -}}
{{- if and $connected (not (.ctx.Capabilities.APIVersions.Has .api)) -}}
{{- fail (printf "%s=true but the cluster serves no %s API (its CRDs are not installed). %s" .key .api .fix) -}}
{{- end -}}
{{- end -}}

{{/* One admission webhook entry; kind is validate or mutate (kubebuilder path convention). */}}
{{- define "dynamo-operator.webhook" -}}
- name: {{ .kind }}-{{ .resource }}.nvidia.com
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: {{ .wh.failurePolicy }}
  timeoutSeconds: {{ .wh.timeoutSeconds }}
  {{- with .selector }}
  namespaceSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  clientConfig:
    service:
      name: {{ .service }}
      namespace: {{ .ctx.Release.Namespace }}
      path: /{{ .kind }}-nvidia-com-v1alpha1-{{ .resource }}
      port: 443
    {{- with .caBundle }}
    caBundle: {{ . }}
    {{- end }}
  rules:
    - apiGroups: ["nvidia.com"]
      apiVersions: ["v1alpha1"]
      operations: {{ toJson .operations }}
      resources: ["{{ .resource }}s"]
      scope: Namespaced
{{- end -}}

{{/*
The auth and TLS of etcd or NATS for workload-settings.yaml: Secret names and keys only, never
their values. An external service (install=false) must name its Secrets: the chart cannot
generate credentials for a server it does not run. Call with (dict "ctx" . "service" "nats").
*/}}
{{- define "dynamo-operator.dataPlaneSecrets" -}}
{{- $global := index .ctx.Values.global .service -}}
{{- range $kind := list "auth" "tls" }}
{{- $settings := index $global $kind }}
{{- if $settings.enabled }}
{{- if and (not $global.install) (not $settings.existingSecret) }}
{{- fail (printf "global.%s.%s.enabled=true with global.%s.install=false needs global.%s.%s.existingSecret: the Secret of the external %s." $.service $kind $.service $.service $kind $.service) }}
{{- end }}
{{ $kind }}:
  secretName: {{ include "dynamo-common.dataPlaneSecret" (dict "ctx" $.ctx "service" $.service "kind" $kind) }}
  {{- if eq $kind "auth" }}
  user: {{ $settings.user | default "root" }}
  passwordKey: {{ $settings.secretKey }}
  {{- else }}
  caKey: ca.crt
  {{- if $settings.clientCertAuth }}
  certKey: tls.crt
  keyKey: tls.key
  {{- end }}
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The CRDs whose objects may still be stored in an older version: those served in a version listed
before their storage version (the generator lists versions oldest first). Today only DGDRs, whose
storage moved from v1alpha1 to v1beta1. Returns a YAML list of {name, plural, group, storage}; the
storage-version migration hook re-writes their objects and grants itself rights on them alone.
*/}}
{{- define "dynamo-operator.migratedCRDs" -}}
{{- $moved := list -}}
{{- range $path, $_ := .Files.Glob "files/crds/*.yaml" -}}
{{- $crd := $.Files.Get $path | fromYaml -}}
{{- $versions := list -}}
{{- range $crd.spec.versions }}{{ $versions = append $versions .name }}{{ end -}}
{{- range $crd.spec.versions -}}
{{- if and .storage (ne .name (first $versions)) -}}
{{- $moved = append $moved (dict "name" $crd.metadata.name "plural" $crd.spec.names.plural "group" $crd.spec.group "storage" .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $moved -}}
{{- end -}}

{{/*
workload-settings.yaml: what this chart's values say about workloads that upstream's
OperatorConfiguration has no field for (the HF token Secret, the etcd/NATS credentials' Secrets,
pull secrets, the checkpoint storage that 1.6 left to the snapshot agent, worker defaults). Empty
when none is set.
*/}}
{{- define "dynamo-operator.workloadSettings" -}}
{{- with .Values.dynamo.hfTokenSecret }}
hfTokenSecret: {{ . }}
{{- end }}
{{- range $service := list "etcd" "nats" }}
{{- if include (printf "dynamo-operator.%s" (ternary "etcdEndpoints" "natsURL" (eq $service "etcd"))) $ }}
{{- with include "dynamo-operator.dataPlaneSecrets" (dict "ctx" $ "service" $service) | trim }}
{{ $service }}:
  {{- . | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}
{{- with include "dynamo-common.imagePullSecrets" (dict "ctx" . "secrets" .Values.imagePullSecrets) | trim }}
imagePullSecrets:
  {{- . | nindent 2 }}
{{- end }}
{{- if .Values.checkpoint.enabled }}
{{- $pvc := .Values.checkpoint.storage.pvc }}
checkpoint:
  {{- with .Values.checkpoint.cleanupImage }}
  cleanupImage: {{ . | quote }}
  {{- end }}
  storage:
    type: {{ .Values.checkpoint.storage.type }}
    pvc:
      pvcName: {{ include "dynamo-common.checkpointPVC" (dict "ctx" . "name" $pvc.pvcName) | quote }}
      basePath: {{ $pvc.basePath | quote }}
      create: {{ $pvc.create }}
      {{- if $pvc.create }}
      size: {{ $pvc.size | quote }}
      accessMode: {{ $pvc.accessMode }}
      {{- with $pvc.storageClassName }}
      storageClassName: {{ . | quote }}
      {{- end }}
      {{- end }}
{{- end }}
{{- with .Values.dynamo.workerDefaults }}
{{- if or .env .resources .nodeSelector .tolerations }}
workerDefaults:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
{{- end -}}
