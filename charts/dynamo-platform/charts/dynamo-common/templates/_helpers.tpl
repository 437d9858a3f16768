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

{{- define "dynamo-common.standardLabels" -}}
{{ include "dynamo-common.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | default .ctx.Chart.Version | quote }}
app.kubernetes.io/part-of: dynamo-platform
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
Labels of every object: the standard ones, then global.commonLabels, then "extra" (a map the
caller adds, named by the values key "extraKey": a component's podLabels, a ServiceMonitor's
labels); a later source wins. A user label may not replace a standard one: the selectors and
`helm upgrade` rely on them. Call with (dict "ctx" . "component" "etcd" ["extra" $map "extraKey" "etcd.podLabels"]).
*/}}
{{- define "dynamo-common.labels" -}}
{{- $standard := include "dynamo-common.standardLabels" . -}}
{{ $standard }}
{{- $reserved := $standard | fromYaml -}}
{{- $added := dict -}}
{{- range $source := list (dict "key" "global.commonLabels" "labels" (dig "commonLabels" dict (.ctx.Values.global | default dict))) (dict "key" .extraKey "labels" (.extra | default dict)) -}}
{{- range $name, $value := $source.labels -}}
{{- if hasKey $reserved $name -}}
{{- fail (printf "%s sets the label %s, which the chart sets on every object (its selectors and helm upgrade rely on it): choose another label key." $source.key $name) -}}
{{- end -}}
{{- $_ := set $added $name $value -}}
{{- end -}}
{{- end -}}
{{- with $added }}
{{ toYaml . }}
{{- end -}}
{{- end -}}

{{/*
Metadata of a component's pod template: its labels (standard, global.commonLabels, then the
component's podLabels) and annotations (the chart's own, such as config checksums, then the
component's podAnnotations; one the chart sets may not be replaced). "key" is the values path of
the component (etcd, dynamo-operator.controllerManager), named in error messages. Call with
(dict "ctx" . "component" "etcd" "pod" .Values "key" "etcd" ["annotations" (dict "checksum/config" $sum)]).
*/}}
{{- define "dynamo-common.podMetadata" -}}
{{- $pod := .pod | default dict -}}
{{- $annotations := deepCopy (.annotations | default dict) -}}
{{- range $name, $value := $pod.podAnnotations | default dict -}}
{{- if hasKey $annotations $name -}}
{{- fail (printf "%s.podAnnotations sets %s, which the chart sets on these pods: choose another annotation key." $.key $name) -}}
{{- end -}}
{{- $_ := set $annotations $name $value -}}
{{- end -}}
labels:
  {{- include "dynamo-common.labels" (dict "ctx" .ctx "component" .component "extra" $pod.podLabels "extraKey" (printf "%s.podLabels" .key)) | nindent 2 }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The component's extraEnv as list items, for the end of its main container's env (a name the chart
sets too is overridden: the last definition wins). Call with (dict "pod" .Values); empty when none.
*/}}
{{- define "dynamo-common.extraEnv" -}}
{{- with .pod.extraEnv }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{/* The component's extraVolumeMounts as list items, for the end of its main container's volumeMounts. Call with (dict "pod" .Values). */}}
{{- define "dynamo-common.extraVolumeMounts" -}}
{{- with .pod.extraVolumeMounts }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{/*
The component's extraVolumes as list items, for the end of its pod's volumes. Fails, naming the
key, when an extra volume reuses the name of one of the chart's ("own", a list of names), or when
an extraVolumeMounts entry names a volume the pod does not have. Call with
(dict "key" "etcd" "pod" .Values "own" (list "data" "tls")).
*/}}
{{- define "dynamo-common.extraVolumes" -}}
{{- $names := .own | default list -}}
{{- range (.pod.extraVolumes | default list) -}}
{{- if has .name $names -}}
{{- fail (printf "%s.extraVolumes: a volume named %s exists already in these pods (the chart's own or an earlier extra one): rename it." $.key .name) -}}
{{- end -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- range (.pod.extraVolumeMounts | default list) -}}
{{- if not (has .name $names) -}}
{{- fail (printf "%s.extraVolumeMounts mounts %s, which is no volume of these pods: add it to %s.extraVolumes (the chart's own are %s)." $.key .name $.key (join ", " ($.own | default list))) -}}
{{- end -}}
{{- end -}}
{{- with .pod.extraVolumes }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{/*
Image reference: [registry/]repository(:tag)(@digest). global.imageRegistry replaces every
registry so a mirror needs one setting. A repository that starts with a registry host (upstream's
values write nvcr.io/nvidia/ai-dynamo/kubernetes-operator) brings its own registry instead of
.image.registry. Call with (dict "ctx" . "image" .Values.image).
*/}}
{{- define "dynamo-common.image" -}}
{{- $ref := .image.repository -}}
{{- $registry := .image.registry -}}
{{- $first := splitList "/" $ref | first -}}
{{- if and (contains "/" $ref) (or (contains "." $first) (contains ":" $first) (eq $first "localhost")) -}}
{{- $registry = $first -}}
{{- $ref = trimPrefix (printf "%s/" $first) $ref -}}
{{- end -}}
{{- $registry = .ctx.Values.global.imageRegistry | default $registry -}}
{{- $tag := .image.tag | default .ctx.Chart.AppVersion | toString -}}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry $ref }}{{ end -}}
{{- if $tag }}{{ $ref = printf "%s:%s" $ref $tag }}{{ end -}}
{{- if .image.digest }}{{ $ref = printf "%s@%s" $ref .image.digest }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/*
Image pull secrets of a pod or of the ServiceAccount it runs as: global.imagePullSecrets and the
component's own, once each, as `- name:` items (empty when there are none). Call with
(dict "ctx" . "secrets" .Values.<component>.imagePullSecrets).
*/}}
{{- define "dynamo-common.imagePullSecrets" -}}
{{- range concat (.ctx.Values.global.imagePullSecrets | default list) (.secrets | default list) | uniq }}
- name: {{ .name }}
{{- end }}
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
{{- $priorityClassName := $pod.priorityClassName | default $global.priorityClassName -}}
{{- with include "dynamo-common.imagePullSecrets" (dict "ctx" .ctx "secrets" $pod.imagePullSecrets) | trim }}
imagePullSecrets:
  {{- . | nindent 2 }}
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

{{/*
Name of the checkpoint PVC: the component's own key when set (upstream's names:
dynamo-operator.checkpoint.storage.pvc.pvcName, snapshot.storage.pvc.name), else
global.checkpoint.pvcName, the one key both read. Call with (dict "ctx" . "name" $ownKeyValue).
*/}}
{{- define "dynamo-common.checkpointPVC" -}}
{{- .name | default (dig "checkpoint" "pvcName" "snapshot-pvc" .ctx.Values.global) -}}
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
GitOps mode (global.gitops.enabled): Argo CD renders with `helm template`, where lookup finds
nothing, and re-renders on every sync, so a secret the chart generates would change each time.
Every generated-secret helper calls this first: it fails naming the values key ("instead") that
supplies the secret from outside the chart. Call with (dict "ctx" . "what" "..." "instead" "...").
*/}}
{{- define "dynamo-common.refuseGeneratedInGitOps" -}}
{{- if dig "gitops" "enabled" false .ctx.Values.global -}}
{{- fail (printf "global.gitops.enabled=true: the chart would generate %s on every render (GitOps tools render without lookup, so each sync would replace it). Set %s, or global.gitops.enabled=false." .what .instead) -}}
{{- end -}}
{{- end -}}

{{/*
Secret holding one generated password, created on first install and reused on every upgrade
(found with lookup) so clients never lose access. "instead" names the values key of an existing
Secret (refused in GitOps mode). "keep" leaves it behind on uninstall, for a password that guards
data kept with it (etcd's root user lives in its kept PVCs). Call with
(dict "ctx" . "name" $secretName "key" "password" "component" "nats" "instead" "global.nats.auth.existingSecret").
*/}}
{{- define "dynamo-common.generatedSecret" -}}
{{- include "dynamo-common.refuseGeneratedInGitOps" (dict "ctx" .ctx "what" (printf "the password Secret %s" .name) "instead" .instead) -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "dynamo-common.labels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
  {{- if .keep }}
  annotations:
    helm.sh/resource-policy: keep
  {{- end }}
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

{{/*
Name of the Secret behind global.<service>.<kind> (service: etcd or nats; kind: auth or tls): the
user's existingSecret, else <release>-<service>-<kind>. Every subchart computes the same name, so
the operator can reference what the etcd and NATS subcharts create.
Call with (dict "ctx" . "service" "etcd" "kind" "tls").
*/}}
{{- define "dynamo-common.dataPlaneSecret" -}}
{{- $settings := index .ctx.Values.global .service .kind -}}
{{- $settings.existingSecret | default (printf "%s-%s" (include "dynamo-common.fullname" (dict "ctx" .ctx "name" .service)) .kind) -}}
{{- end -}}

{{/*
DNS names a quorum service's certificate must cover: its client Service in every short form, and
every member by name through the headless Service (peers, routes). Returns a JSON list. Call with
(dict "ctx" . "name" $fullname "headless" $headlessName).
*/}}
{{- define "dynamo-common.quorumDNSNames" -}}
{{- $ns := .ctx.Release.Namespace -}}
{{- $names := list .name (printf "%s.%s" .name $ns) (printf "%s.%s.svc" .name $ns) (include "dynamo-common.serviceHost" (dict "ctx" .ctx "name" .name)) -}}
{{- $names = append $names (printf "*.%s" (include "dynamo-common.serviceHost" (dict "ctx" .ctx "name" .headless))) -}}
{{- append $names "localhost" | toJson -}}
{{- end -}}

{{/*
kubernetes.io/tls Secret (ca.crt, tls.crt, tls.key) with a chart-generated CA and a certificate
valid for dnsNames, created on first install and reused on every upgrade (found with lookup), so
clients that pinned the CA keep working. Keys are ECDSA P-256: stronger than RSA-2048, and made in
microseconds where an RSA key costs a render about 0.1 s of CPU. Renders YAML; callers that need the CA (webhook
caBundle) parse it with fromYaml. "instead" names the values that supply the certificate from
outside the chart (refused in GitOps mode). Call with
(dict "ctx" . "name" $secret "component" "etcd" "commonName" $cn "dnsNames" $names "instead" "global.etcd.tls.existingSecret").
*/}}
{{- define "dynamo-common.generatedTLSSecret" -}}
{{- include "dynamo-common.refuseGeneratedInGitOps" (dict "ctx" .ctx "what" (printf "the CA and certificate Secret %s" .name) "instead" .instead) -}}
{{- $data := (lookup "v1" "Secret" .ctx.Release.Namespace .name).data | default dict -}}
{{- if not (and (hasKey $data "ca.crt") (hasKey $data "tls.crt") (hasKey $data "tls.key")) -}}
{{- $ca := genCAWithKey (printf "%s-ca" .name) 3650 (genPrivateKey "ecdsa") -}}
{{- $cert := genSignedCertWithKey .commonName nil .dnsNames 3650 $ca (genPrivateKey "ecdsa") -}}
{{- $data = dict "ca.crt" ($ca.Cert | b64enc) "tls.crt" ($cert.Cert | b64enc) "tls.key" ($cert.Key | b64enc) -}}
{{- end -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "dynamo-common.labels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
type: kubernetes.io/tls
data:
  ca.crt: {{ index $data "ca.crt" }}
  tls.crt: {{ index $data "tls.crt" }}
  tls.key: {{ index $data "tls.key" }}
{{- end -}}

{{/*
Default spread for a multi-replica quorum (etcd, NATS): at most one member more on any node than
on another (hard), and spread over zones where the nodes have zones (soft). Rendered only when
the component sets no topologySpreadConstraints and no affinity of its own. Call with
(dict "ctx" . "pod" .Values "component" "etcd" "replicas" 3); returns pod-spec YAML or nothing.
*/}}
{{- define "dynamo-common.quorumSpread" -}}
{{- if and (gt (int .replicas) 1) (not .pod.topologySpreadConstraints) -}}
topologySpreadConstraints:
{{- range $key, $when := dict "kubernetes.io/hostname" "DoNotSchedule" "topology.kubernetes.io/zone" "ScheduleAnyway" }}
  - maxSkew: 1
    topologyKey: {{ $key }}
    whenUnsatisfiable: {{ $when }}
    labelSelector:
      matchLabels:
        {{- include "dynamo-common.selectorLabels" (dict "ctx" $.ctx "component" $.component) | nindent 8 }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
Ingress-only NetworkPolicy for one component, rendered when global.networkPolicy.enabled.
Each rule opens named ports to one kind of source:
  clients    platform pods of this release and Dynamo workloads (pods carrying the DGD label) in
             namespaces matched by global.networkPolicy.workloadNamespaceSelector
  peers      the component's own pods (raft, cluster routes)
  monitoring namespaces matched by global.networkPolicy.monitoringNamespaceSelector
  apiServer  global.networkPolicy.apiServerCIDRs, or any source when empty (the API server is not
             a pod and its address differs per cloud)
Call with (dict "ctx" . "name" $fullname "component" "etcd" "rules" (list (dict "ports" (list "client") "from" "clients") ...)).
*/}}
{{- define "dynamo-common.networkPolicy" -}}
{{- $np := .ctx.Values.global.networkPolicy -}}
{{- if $np.enabled -}}
{{- $ctx := .ctx -}}
{{- $component := .component -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "dynamo-common.labels" (dict "ctx" $ctx "component" $component) | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "dynamo-common.selectorLabels" (dict "ctx" $ctx "component" $component) | nindent 6 }}
  policyTypes: ["Ingress"]
  ingress:
    {{- range $rule := .rules }}
    - ports:
        {{- range $rule.ports }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
      {{- if eq $rule.from "clients" }}
      from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/instance: {{ $ctx.Release.Name }}
              app.kubernetes.io/part-of: dynamo-platform
        - namespaceSelector:
            {{- toYaml $np.workloadNamespaceSelector | nindent 12 }}
          podSelector:
            matchExpressions:
              - key: nvidia.com/dynamo-graph-deployment-name
                operator: Exists
      {{- else if eq $rule.from "peers" }}
      from:
        - podSelector:
            matchLabels:
              {{- include "dynamo-common.selectorLabels" (dict "ctx" $ctx "component" $component) | nindent 14 }}
      {{- else if eq $rule.from "monitoring" }}
      from:
        - namespaceSelector:
            {{- toYaml $np.monitoringNamespaceSelector | nindent 12 }}
      {{- else if and (eq $rule.from "apiServer") $np.apiServerCIDRs }}
      from:
        {{- range $np.apiServerCIDRs }}
        - ipBlock:
            cidr: {{ . }}
        {{- end }}
      {{- end }}
    {{- end }}
{{- end -}}
{{- end -}}

{{/*
checkov.io/skip<N> annotations: the policy checks of `make lint` (checkov) that this object does
not meet on purpose, each with its reason, for the metadata of a workload (the annotation counts
on the object checkov reports, not on its pod template). Call with a dict of check id -> reason.
A reason must not hold "=": checkov splits the annotation there.
*/}}
{{- define "dynamo-common.checkovSkips" -}}
{{- $lines := list -}}
{{- range $check, $reason := . -}}
{{- if contains "=" $reason -}}
{{- fail (printf "dynamo-common.checkovSkips: the reason for %s holds '=', which checkov cannot parse" $check) -}}
{{- end -}}
{{- $lines = append $lines (printf "checkov.io/skip%d: %s" (add1 (len $lines)) (printf "%s=%s" $check $reason | quote)) -}}
{{- end -}}
{{- join "\n" $lines -}}
{{- end -}}

{{/*
The umbrella's switch for a component that can also live outside this release (grove, lws,
kai-scheduler): "true" when global.<component>.install (this release deploys it) or
global.<component>.enabled (one installed separately is used) is set, empty otherwise. The two
are mutually exclusive; setting both fails. Call with (dict "ctx" . "component" "grove").
*/}}
{{- define "dynamo-common.installOrEnabled" -}}
{{- $switch := index .ctx.Values.global .component | default dict -}}
{{- if and $switch.install $switch.enabled -}}
{{- fail (printf "global.%s.install and global.%s.enabled are both true. Set install=true to deploy it with this chart, or enabled=true to use one installed separately, not both." .component .component) -}}
{{- end -}}
{{- if or $switch.install $switch.enabled }}true{{ end -}}
{{- end -}}

{{/*
"true" when global.monitoring.enabled is set and the cluster serves the prometheus-operator API
(monitoring.coreos.com/v1); empty otherwise, so monitoring objects stay off where their CRDs are
absent. An offline render needs `--api-versions monitoring.coreos.com/v1`. Call with the root context.
*/}}
{{- define "dynamo-common.monitoringEnabled" -}}
{{- if and (dig "monitoring" "enabled" false .Values.global) (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}true{{ end -}}
{{- end -}}

{{/*
The value at a dotted path of a values map, as JSON {"found": bool, "value": ...}. A key that
holds null counts as absent: Helm reads null as "delete this key". Call with
(dict "values" .Values "path" "dynamo-operator.natsAddr").
*/}}
{{- define "dynamo-common.valueAt" -}}
{{- $node := .values -}}
{{- $found := true -}}
{{- range $key := splitList "." .path -}}
{{- if and $found (kindIs "map" $node) (hasKey $node $key) -}}
{{- $node = index $node $key -}}
{{- else -}}
{{- $found = false -}}
{{- end -}}
{{- end -}}
{{- $found = and $found (not (kindIs "invalid" $node)) -}}
{{- dict "found" $found "value" (ternary $node nil $found) | toJson -}}
{{- end -}}

{{/*
"true" when value fits inside accept: equal scalars and lists, or a map whose every key is in
accept's map with a value that fits there (so a partial copy of an upstream default fits); null
always fits. Empty otherwise. Call with (dict "value" $v "accept" $a).
*/}}
{{- define "dynamo-common.within" -}}
{{- if kindIs "invalid" .value -}}
true
{{- else if and (kindIs "map" .value) (kindIs "map" .accept) -}}
{{- $fits := true -}}
{{- range $key, $item := .value -}}
{{- if not (and (hasKey $.accept $key) (include "dynamo-common.within" (dict "value" $item "accept" (index $.accept $key)))) -}}
{{- $fits = false -}}
{{- end -}}
{{- end -}}
{{- if $fits }}true{{ end -}}
{{- else if eq (toJson .value) (toJson .accept) -}}
true
{{- end -}}
{{- end -}}

{{/*
Fails on the first key of "refused" (a list of {key, why, instead, accept}: files/refused-keys.yaml)
that the values set to anything but one of its accepted values, naming the key, why it is not
read and what to set instead. Call with (dict "values" .Values "refused" $list).
*/}}
{{- define "dynamo-common.refuseKeys" -}}
{{- range $refused := .refused -}}
{{- $at := include "dynamo-common.valueAt" (dict "values" $.values "path" $refused.key) | fromJson -}}
{{- if $at.found -}}
{{- $accepted := false -}}
{{- range $refused.accept | default list -}}
{{- if include "dynamo-common.within" (dict "value" $at.value "accept" .) -}}
{{- $accepted = true -}}
{{- end -}}
{{- end -}}
{{- if not $accepted -}}
{{- fail (printf "%s=%s is not read by this chart: %s. Instead, %s." $refused.key (toJson $at.value) $refused.why $refused.instead) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Upstream's names of a subchart's keys (its files/upstream-aliases.yaml: upstream key -> {key, default}:
this chart's key and its values.yaml default, both relative to the subchart; Helm hides values.yaml
from .Files, and chartgen checks the copy). A value set under upstream's name is copied to this
chart's key, in place, before the template reads it. Setting both names to different values fails,
naming both (a key still at its default counts as unset). Idempotent: every template of the
subchart calls it first, in whatever order Helm renders them. Call with
(dict "ctx" . "chart" "nats") where "chart" is the subchart's key in the umbrella.
*/}}
{{- define "dynamo-common.applyAliases" -}}
{{- range $from, $alias := .ctx.Files.Get "files/upstream-aliases.yaml" | fromYaml -}}
{{- $theirs := include "dynamo-common.valueAt" (dict "values" $.ctx.Values "path" $from) | fromJson -}}
{{- /* An upstream key left empty (as upstream's defaults leave tolerations, affinity, ...) sets
nothing: this chart's key, maybe set by a later values file, stands. */ -}}
{{- if and $theirs.found (not (has (toJson $theirs.value) (list "null" "\"\"" "[]" "{}"))) -}}
{{- $ours := include "dynamo-common.valueAt" (dict "values" $.ctx.Values "path" $alias.key) | fromJson -}}
{{- if and (ne (toJson $ours.value) (toJson $alias.default)) (ne (toJson $ours.value) (toJson $theirs.value)) -}}
{{- fail (printf "%s.%s (upstream's name for %s.%s) and %s.%s are set to different values (%s, %s): keep one, preferably %s.%s." $.chart $from $.chart $alias.key $.chart $alias.key (toJson $theirs.value) (toJson $ours.value) $.chart $alias.key) -}}
{{- end -}}
{{- $parent := $.ctx.Values -}}
{{- $keys := splitList "." $alias.key -}}
{{- range initial $keys -}}
{{- $parent = index $parent . -}}
{{- end -}}
{{- $_ := set $parent (last $keys) $theirs.value -}}
{{- end -}}
{{- end -}}
{{- end -}}
