"""Types and constraints of every chart's values, as JSON Schema (draft 2020-12).

Descriptions are not written here: they come from the `# --` comment above each key in the
chart's values.yaml (see comments.py), so values.yaml stays the one place that documents a key.
Objects we own are closed (`additionalProperties: false`), so a typo fails `helm install`.
"""

from __future__ import annotations

from ..formats import DNS_LABEL, DNS_SUBDOMAIN, LABEL_KEY, LABEL_VALUE, POSITIVE_SIZE, QUANTITY
from .openapi import Schema, array, boolean, enum, integer, obj, string

IPV4_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
CIDR = rf"^({IPV4_OCTET}\.){{3}}{IPV4_OCTET}/(3[0-2]|[12]?[0-9])$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$"


def closed(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    return obj(properties, required=required, additionalProperties=False)


def nullable(node: Schema) -> Schema:
    """A key upstream's values file sets to null (Helm's "unset"): null is accepted, so the key is not required."""
    node["type"] = [node["type"], "null"]
    if "enum" in node:
        node["enum"] = [*node["enum"], None]
    return node


def go_duration() -> Schema:
    """A Go time.Duration string (30s, 1h30m)."""
    return string(pattern=r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")


NAMESPACE_OR_EMPTY = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$"


def quantity() -> Schema:
    return string(pattern=QUANTITY)


def size() -> Schema:
    return string(pattern=POSITIVE_SIZE)


def label_map() -> Schema:
    return obj(additionalProperties=string(pattern=LABEL_VALUE, maxLength=63), propertyNames={"pattern": LABEL_KEY, "maxLength": 317})


def port() -> Schema:
    return integer(minimum=1, maximum=65535)


def digest() -> Schema:
    """An image digest pinned in addition to the tag, or empty."""
    return string(pattern=r"^(sha256:[a-f0-9]{64})?$")


def image() -> Schema:
    return closed(
        {
            "registry": string(),
            "repository": string(minLength=1),
            "tag": string(),
            "digest": digest(),
            "pullPolicy": enum(["Always", "IfNotPresent", "Never"]),
        },
        required=["repository"],
    )


def kube_object() -> Schema:
    """A Kubernetes type embedded as-is (affinity, resources, env): its own API validates it."""
    return obj()


def resources() -> Schema:
    quantities = obj(additionalProperties={"anyOf": [{"type": "string", "pattern": QUANTITY}, {"type": "number", "minimum": 0}]})
    return closed({"requests": quantities, "limits": quantities, "claims": array(obj())})


def tolerations() -> Schema:
    toleration = closed(
        {
            "key": string(pattern=rf"^$|{LABEL_KEY}"),
            "operator": enum(["Exists", "Equal"]),
            "value": string(pattern=LABEL_VALUE, maxLength=63),
            "effect": enum(["NoSchedule", "PreferNoSchedule", "NoExecute", ""]),
            "tolerationSeconds": integer(),
        }
    )
    # The API server rejects a value with operator Exists.
    toleration["if"] = {"properties": {"operator": {"const": "Exists"}}, "required": ["operator"]}
    toleration["then"] = {"properties": {"value": {"const": ""}}}
    return array(toleration)


def pull_secrets() -> Schema:
    return array(closed({"name": string(minLength=1)}, required=["name"]))


def placement(*, spread: bool = False) -> dict[str, Schema]:
    """Pod placement keys each component accepts on top of the global ones."""
    keys = {
        "nodeSelector": label_map(),
        "tolerations": tolerations(),
        "affinity": kube_object(),
        "priorityClassName": string(pattern=DNS_SUBDOMAIN, maxLength=253),
    }
    if spread:
        keys["topologySpreadConstraints"] = array(obj())
    return keys


# Kubernetes volume sources (core/v1 VolumeSource): an extra volume names exactly one of them.
VOLUME_SOURCES = (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "configMap", "csi", "downwardAPI",
    "emptyDir", "ephemeral", "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "hostPath",
    "image", "iscsi", "nfs", "persistentVolumeClaim", "photonPersistentDisk", "portworxVolume", "projected", "quobyte",
    "rbd", "scaleIO", "secret", "storageos", "vsphereVolume",
)
# An environment variable name as the API server accepts it (C identifiers and more since 1.34: dots, dashes).
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"


def annotation_map() -> Schema:
    return obj(additionalProperties=string(), propertyNames={"pattern": LABEL_KEY, "maxLength": 317})


def env_vars() -> Schema:
    """A container's env list; closed items, so a misspelt `valueFrom` fails instead of vanishing."""
    return array(closed({"name": string(pattern=ENV_NAME), "value": string(), "valueFrom": kube_object()}, required=["name"]))


def volumes() -> Schema:
    volume = closed({"name": string(pattern=DNS_LABEL, maxLength=63), **{source: kube_object() for source in VOLUME_SOURCES}},
                    required=["name"])
    volume["minProperties"] = volume["maxProperties"] = 2  # the name and one source
    return array(volume)


def volume_mounts() -> Schema:
    mount = {
        "name": string(pattern=DNS_LABEL, maxLength=63),
        "mountPath": string(pattern=r"^/"),
        "subPath": string(),
        "subPathExpr": string(),
        "readOnly": boolean(),
        "recursiveReadOnly": enum(["Disabled", "IfPossible", "Enabled"]),
        "mountPropagation": enum(["None", "HostToContainer", "Bidirectional"]),
    }
    return array(closed(mount, required=["name", "mountPath"]))


def pod_extras() -> dict[str, Schema]:
    """Escape hatches every component with pods accepts (dynamo-common.podMetadata, .extraEnv, .extraVolumes)."""
    return {
        "podLabels": label_map(),
        "podAnnotations": annotation_map(),
        "extraEnv": env_vars(),
        "extraVolumes": volumes(),
        "extraVolumeMounts": volume_mounts(),
    }


def quorum_replicas() -> Schema:
    # 2 is caught by a template `fail` with a sentence on quorum; the schema bounds the rest.
    return integer(minimum=1, maximum=9)


def pvc(*, size_key: str = "size") -> dict[str, Schema]:
    return {
        size_key: size(),
        "deleteOnUninstall": boolean(),
        "storageClass": nullable(string()),
        "accessModes": array(enum(["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"]), minItems=1),
    }


def secret_name() -> Schema:
    return string(pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", maxLength=253)


def data_plane_service(*, user: bool = False, client_cert_auth: bool = False) -> Schema:
    """global.etcd / global.nats: install switch plus auth and TLS, read by every subchart."""
    auth = {"enabled": boolean(), "existingSecret": secret_name(), "secretKey": string(minLength=1)}
    if user:
        auth["user"] = string(minLength=1, pattern=r"^\S+$")
    tls = {"enabled": boolean(), "existingSecret": secret_name()}
    if client_cert_auth:
        tls["clientCertAuth"] = boolean()
    return closed({"install": boolean(), "clientPort": port(), "auth": closed(auth), "tls": closed(tls)})


def network_policy() -> Schema:
    cidr = string(pattern=CIDR)
    return closed(
        {
            "enabled": boolean(),
            "workloadNamespaceSelector": kube_object(),
            "monitoringNamespaceSelector": kube_object(),
            "apiServerCIDRs": array(cidr),
        }
    )


def require_defaults(schema: Schema, defaults: object) -> Schema:
    """Mark every key that has a default as required, in every closed object of the schema.

    Helm merges the defaults in, so a key is missing only when a user set it to null, which Helm
    reads as "delete this key": the template would then meet nil. Required keys turn that into a
    schema error naming the key.
    """
    if isinstance(defaults, dict) and schema.get("additionalProperties") is False:
        present = [key for key in schema.get("properties", {})
                   if key in defaults and "null" not in (schema["properties"][key].get("type") or [])]
        schema["required"] = sorted(set(schema.get("required", [])) | set(present))
        for key in present:
            require_defaults(schema["properties"][key], defaults[key])
    return schema


def subchart(properties: dict[str, Schema]) -> Schema:
    """Root of a subchart's values: Helm also hands every subchart the `global` block."""
    return closed({"global": obj(), **properties})


def operator() -> Schema:
    return subchart(
        {
            "enabled": boolean(),
            "crds": closed({"enabled": boolean(), "keep": boolean()}),
            "storageMigration": closed(
                {
                    "enabled": boolean(),
                    "image": image(),
                    "backoffLimit": integer(minimum=0, maximum=20),
                    "resources": resources(),
                    "nodeSelector": label_map(),
                    "tolerations": tolerations(),
                    **pod_extras(),
                }
            ),
            "modelExpressURL": string(pattern=r"^([a-z][a-z0-9+.-]*://\S+)?$"),
            "namespaceRestriction": closed(
                {
                    "enabled": boolean(),
                    "targetNamespace": nullable(string(pattern=NAMESPACE_OR_EMPTY, maxLength=63)),
                    "lease": closed({"duration": go_duration(), "renewInterval": go_duration()}),
                }
            ),
            "gpuDiscovery": closed({"enabled": boolean()}),
            "controllerManager": closed(
                {
                    "replicas": integer(minimum=1, maximum=5),
                    "leaderElection": closed(
                        {
                            "enabled": boolean(),
                            # A Lease name: a DNS subdomain.
                            "id": string(pattern=DNS_SUBDOMAIN, maxLength=253),
                            "namespace": string(pattern=NAMESPACE_OR_EMPTY, maxLength=63),
                        }
                    ),
                    "healthProbePort": port(),
                    "manager": closed(
                        {
                            "image": image(),
                            "args": array(string()),
                            "resources": resources(),
                        }
                    ),
                    **placement(spread=True),
                    **pod_extras(),
                }
            ),
            "imagePullSecrets": pull_secrets(),
            "serviceAccount": closed({"annotations": obj(additionalProperties=string())}),
            "dynamo": closed(
                {
                    "discoveryBackend": enum(["kubernetes", "etcd"]),
                    "etcd": closed({"endpoints": string(pattern=r"^(https?://[^,\s]+)?(,https?://[^,\s]+)*$")}),
                    "nats": closed({"url": string(pattern=r"^((nats|tls)://\S+)?$")}),
                    "hfTokenSecret": secret_name(),
                    "mpiRun": closed({"secretName": string(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength=253)}),
                    "metrics": closed({"prometheusEndpoint": string(pattern=r"^(https?://\S+)?$")}),
                    "groveTerminationDelay": string(pattern=r"^(([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)?$"),
                    "ingress": closed(
                        {"enabled": boolean(), "className": nullable(string(pattern=DNS_SUBDOMAIN, maxLength=253)),
                         "tlsSecretName": nullable(secret_name())}
                    ),
                    # The Gateway as <namespace>/<name> (or a name in the workloads' namespace).
                    "istio": closed({"enabled": boolean(), "gateway": nullable(string(pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$"))}),
                    "ingressHostSuffix": string(pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$"),
                    "serviceMesh": closed(
                        {
                            "enabled": boolean(),
                            "provider": enum(["istio"]),
                            "istio": closed(
                                {
                                    "tlsMode": enum(["SIMPLE", "DISABLE", "ISTIO_MUTUAL", "MUTUAL"]),
                                    "insecureSkipVerify": boolean(),
                                    "clientCertificate": string(),
                                    "privateKey": string(),
                                    "caCertificates": string(),
                                }
                            ),
                        }
                    ),
                    "workerDefaults": closed(
                        {
                            "env": array(obj(required=["name"])),
                            "resources": resources(),
                            "nodeSelector": label_map(),
                            "tolerations": tolerations(),
                        }
                    ),
                }
            ),
            "webhook": closed(
                {
                    "port": port(),
                    "failurePolicy": enum(["Fail", "Ignore"]),
                    "timeoutSeconds": integer(minimum=1, maximum=30),
                    "namespaceSelector": kube_object(),
                    "certManager": closed(
                        {
                            "enabled": boolean(),
                            "certificate": closed({"duration": go_duration(), "renewBefore": go_duration()}),
                            "issuerRef": closed({"kind": enum(["Issuer", "ClusterIssuer"]), "name": string()}),
                        }
                    ),
                    "certificateSecret": closed(
                        {"name": string(pattern=DNS_LABEL), "external": boolean(), "caBundle": string()}
                    ),
                }
            ),
            "metricsService": closed({"enabled": boolean(), "port": port()}),
            "serviceMonitor": closed(
                {"enabled": boolean(), "interval": string(pattern=r"^[0-9]+(ms|s|m|h)$"), "labels": label_map()}
            ),
            "podDisruptionBudget": closed({"enabled": boolean()}),
            "checkpoint": closed(
                {
                    "enabled": boolean(),
                    "cleanupImage": string(pattern=r"^(\S+)?$"),
                    "storage": closed(
                        {
                            "type": enum(["pvc"]),
                            "pvc": closed(
                                {
                                    "pvcName": string(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$", maxLength=63),
                                    "basePath": string(pattern=r"^/"),
                                    "create": boolean(),
                                    "size": size(),
                                    "storageClassName": string(),
                                    "accessMode": enum(["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"]),
                                }
                            )
                        }
                    ),
                }
            ),
        }
    )


def etcd() -> Schema:
    return subchart(
        {
            "replicas": quorum_replicas(),
            "image": image(),
            "peerPort": port(),
            "metricsPort": port(),
            "initialClusterToken": string(),
            "autoCompactionRetention": string(pattern=r"^[0-9]+[hms]?$"),
            "quotaBackendBytes": integer(minimum=104857600, maximum=8589934592),
            "persistence": closed({"enabled": boolean(), **pvc()}),
            "resources": resources(),
            "imagePullSecrets": pull_secrets(),
            "podDisruptionBudget": closed({"enabled": boolean()}),
            **placement(spread=True),
            **pod_extras(),
        }
    )


def nats() -> Schema:
    return subchart(
        {
            "replicas": quorum_replicas(),
            "image": image(),
            "clusterPort": port(),
            "monitorPort": port(),
            "maxPayload": integer(minimum=1024, maximum=67108864),
            "jetstream": closed(
                {
                    "enabled": boolean(),
                    "maxMemoryStore": quantity(),
                    "fileStore": closed({"enabled": boolean(), **pvc()}),
                }
            ),
            "resources": resources(),
            "imagePullSecrets": pull_secrets(),
            "podDisruptionBudget": closed({"enabled": boolean()}),
            **placement(spread=True),
            **pod_extras(),
            "metrics": closed({"exporter": closed({"image": image(), "port": port(), "resources": resources()})}),
            # Upstream's (official NATS chart) cluster switch, mapped to replicas by nats.applyUpstream.
            "config": closed({"cluster": closed({"enabled": nullable(boolean()), "replicas": nullable(quorum_replicas())})}),
        }
    )


def duration() -> Schema:
    """A Prometheus duration (30s, 5m, 1h)."""
    return string(pattern=r"^[0-9]+(ms|s|m|h|d|w|y)$")


def monitoring() -> Schema:
    return subchart(
        {
            "labels": label_map(),
            "interval": duration(),
            "podMonitors": closed(
                {
                    "frontend": boolean(),
                    "workers": boolean(),
                    "etcd": boolean(),
                    "nats": boolean(),
                    "workloadNamespaces": array(string(pattern=DNS_LABEL, maxLength=63)),
                }
            ),
            "dashboards": closed(
                {
                    "enabled": boolean(),
                    "namespace": string(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$", maxLength=63),
                    "labels": label_map(),
                }
            ),
            "rules": closed(
                {
                    "enabled": boolean(),
                    "operator": boolean(),
                    "for": duration(),
                    "frontendErrorRatio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                    "ttftP95Seconds": {"type": "number", "exclusiveMinimum": 0},
                }
            ),
        }
    )


def lws() -> Schema:
    return subchart(
        {
            "replicas": integer(minimum=1, maximum=5),
            "image": image(),
            "gangSchedulerProvider": enum(["", "volcano"]),
            "resources": resources(),
            "imagePullSecrets": pull_secrets(),
            **placement(),
            **pod_extras(),
        }
    )


def inference_gateway() -> Schema:
    namespace = string(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$", maxLength=63)
    hostname = string(pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", maxLength=253)
    return subchart(
        {
            "enabled": boolean(),
            "namespace": namespace,
            "pool": closed(
                {
                    # Part of object names (<release>-<dgd>-epp), so a DNS label.
                    "dynamoGraphDeployment": string(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$", maxLength=52),
                    "componentType": string(pattern=LABEL_VALUE, minLength=1, maxLength=63),
                    "targetPort": port(),
                    "failureMode": enum(["FailClose", "FailOpen"]),
                }
            ),
            "route": closed(
                {
                    "enabled": boolean(),
                    "gateway": closed({"name": string(pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$", maxLength=253), "namespace": namespace}),
                    "hostnames": array(hostname),
                    "pathPrefix": string(pattern=r"^/", maxLength=1024),
                    "requestTimeout": string(pattern=r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"),
                }
            ),
            "epp": closed(
                {
                    "image": image(),
                    "verbosity": integer(minimum=0, maximum=10),
                    # Flag names without dashes; patternProperties (not propertyNames) so an error names the key.
                    "flags": obj(patternProperties={r"^[a-z0-9][-a-z0-9]*$": {"type": ["string", "number", "boolean"]}},
                                 additionalProperties=False),
                    "config": string(minLength=1),
                    "resources": resources(),
                    "imagePullSecrets": pull_secrets(),
                    **placement(),
                    **pod_extras(),
                }
            ),
        }
    )


def grove() -> Schema:
    return subchart(
        {
            "replicas": integer(minimum=1, maximum=5),
            "image": image(),
            "initContainerImage": closed({"registry": string(), "repository": string(minLength=1)}, required=["repository"]),
            # The values Grove's config validation accepts (operator/api config/v1alpha1 AllLogLevels, AllLogFormats).
            "logLevel": enum(["debug", "info", "error"]),
            "logFormat": enum(["json", "text"]),
            "webhooks": closed({"namespaceSelector": kube_object()}),
            "resources": resources(),
            "imagePullSecrets": pull_secrets(),
            **placement(),
            **pod_extras(),
        }
    )


def kai_scheduler() -> Schema:
    def component() -> Schema:  # one object per component: descriptions are filled in per path
        return closed({"replicas": integer(minimum=1, maximum=5), "digest": digest(), "resources": resources()})

    return subchart(
        {
            "image": closed(
                {
                    "registry": string(),
                    "repositoryPrefix": string(minLength=1),
                    "tag": string(),
                    "pullPolicy": enum(["Always", "IfNotPresent", "Never"]),
                }
            ),
            "schedulerName": string(pattern=DNS_LABEL),
            "components": closed({"scheduler": component(), "binder": component(), "podgrouper": component()}),
            # Flag names only (no "=", spaces or dashes in front); the template refuses the two it sets.
            "scheduler": closed(
                {"args": obj(additionalProperties=string(minLength=1), propertyNames={"pattern": r"^[a-z0-9][a-z0-9-]*$"})}
            ),
            "defaultQueue": closed(
                {"create": boolean(), "parentName": string(pattern=DNS_LABEL), "name": string(pattern=DNS_LABEL)}
            ),
            "imagePullSecrets": pull_secrets(),
            **placement(),
            **pod_extras(),
        }
    )


def snapshot() -> Schema:
    return subchart(
        {
            "enabled": boolean(),
            "image": image(),
            "runtime": closed({"type": enum(["containerd", "crio"]), "socket": string(pattern=r"^(/\S+)?$")}),
            "storage": closed(
                {
                    "accessMode": enum(["agentMount", "podMount"]),
                    "basePath": string(pattern=r"^/"),
                    "pvc": closed(
                        {
                            "create": boolean(),
                            "name": string(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$", maxLength=63),
                            "size": size(),
                            "storageClass": string(),
                            "accessMode": enum(["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"]),
                        }
                    ),
                }
            ),
            "resources": resources(),
            "imagePullSecrets": pull_secrets(),
            **placement(),
            **pod_extras(),
        }
    )


def helm_tests() -> Schema:
    return closed(
        {
            "enabled": boolean(),
            "image": image(),
            "resources": resources(),
            "nodeSelector": label_map(),
            "tolerations": tolerations(),
            "inference": closed({"endpoint": string(pattern=r"^(https?://\S+)?$"), "model": string()}),
            **pod_extras(),
        }
    )


def install_switch() -> Schema:
    return closed({"install": boolean(), "enabled": boolean()})


def global_values() -> Schema:
    return closed(
        {
            "imageRegistry": string(pattern=r"^([a-zA-Z0-9.-]+(:[0-9]+)?(/[a-zA-Z0-9._-]+)*)?$"),
            "imagePullSecrets": pull_secrets(),
            "nodeSelector": label_map(),
            "tolerations": tolerations(),
            "affinity": kube_object(),
            "priorityClassName": string(pattern=DNS_SUBDOMAIN, maxLength=253),
            "storageClass": string(),
            "clusterDomain": string(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"),
            "commonLabels": label_map(),
            "checkpoint": closed({"pvcName": string(pattern=DNS_LABEL, maxLength=63)}),
            "gitops": closed({"enabled": boolean()}),
            "etcd": data_plane_service(client_cert_auth=True),
            "nats": data_plane_service(user=True),
            "networkPolicy": network_policy(),
            "monitoring": closed({"enabled": boolean()}),
            "grove": install_switch(),
            "lws": install_switch(),
            "kai-scheduler": install_switch(),
        }
    )


SUBCHARTS = {
    "dynamo-operator": operator,
    "etcd": etcd,
    "nats": nats,
    "grove": grove,
    "kai-scheduler": kai_scheduler,
    "snapshot": snapshot,
    "monitoring": monitoring,
    "inference-gateway": inference_gateway,
    "lws": lws,
}


def umbrella() -> Schema:
    """The umbrella validates its own keys and, under each subchart key, that subchart's schema.

    Helm validates the coalesced values, in which every subchart (the dynamo-common library too)
    has a section carrying a copy of `global`.
    """
    properties: dict[str, Schema] = {"global": global_values(), "dynamo-common": obj(), "tests": helm_tests()}
    properties.update({name: build() for name, build in SUBCHARTS.items()})
    return closed(properties)
