"""DynamoComponentDeployment (dcd): one component of a graph. Its shared spec is also what each
DynamoGraphDeployment component is (upstream's DynamoComponentDeploymentSharedSpec, in
dynamocomponentdeployment_types.go of api/v1alpha1 and api/v1beta1).

From Dynamo 1.5.0 v1beta1 stores and v1alpha1 is deprecated with upstream's warning: the 1.5.0
operator CRD `deploy/operator/config/crd/bases/nvidia.com_dynamocomponentdeployments.yaml` in
yueying-AIHorizon/dynamo @ 3d741331e55038cee2f24f4a0d3e3592cd89bbd3 (a GitHub fork's copy of the
release tree: its platform Chart.yaml at that commit is 1.5.0 with 1.5.0's pins). No DCD CRD is
stored at a commit tied to 1.6.0; the 1.6.0 DGD CRD (dynamographdeployment.py) keeps the same
version layout. The v1beta1 `type` enum is 1.6's (dev cycle): api/v1beta1/common.go in
michaelfeil/dynamo @ 86e34d1eb9410e234c41e6d3fa812f89d7ba7656 (fork copy; README badge 1.6.0)."""

from __future__ import annotations

from ..openapi import (
    Schema,
    array,
    boolean,
    enum,
    free_form,
    int_or_string,
    integer,
    obj,
    string,
    string_map,
)
from .common import BACKEND_FRAMEWORKS, COMPONENT_STATUS, ENV_VAR, READY_COLUMNS
from .crd import CRD, Version

# v1alpha1 componentType (1.3.0 facts; no 1.5/1.6 copy of the v1alpha1 enum was read).
COMPONENT_TYPES = ["frontend", "worker", "prefill", "decode", "planner", "router", "epp", "main"]
# v1beta1 type: upstream's ComponentType enum at 1.6 (api/v1beta1/common.go @ 86e34d1e): prefill and
# decode first-class, lpx (LPX components, EXPERIMENTAL at 1.6) new, no router or main.
V1BETA1_COMPONENT_TYPES = ["frontend", "worker", "prefill", "decode", "planner", "epp", "lpx"]

# --- v1alpha1 ------------------------------------------------------------------------------

RESOURCE_ITEM = obj(
    {
        "cpu": string("CPU quantity, e.g. \"4\" or \"500m\"."),
        "memory": string("Memory quantity, e.g. \"40Gi\"."),
        "gpu": string("Number of GPUs, e.g. \"1\"."),
        "gpuType": string("GPU resource name when not nvidia.com/gpu."),
        "custom": string_map("Other extended resources, e.g. vpc.amazonaws.com/efa or rdma/ib."),
    },
)

MAIN_CONTAINER = free_form(
    "Overrides for the component's main container (core/v1 Container).",
    image=string("Container image."),
    command=array(string()),
    args=array(string()),
    workingDir=string(),
    env=array(ENV_VAR),
)

COMPONENT_SPEC_PROPERTIES: dict[str, Schema] = {
    "componentType": enum(COMPONENT_TYPES, "Role of the component in the graph."),
    "subComponentType": string("Finer role, e.g. prefill or decode for a worker."),
    "dynamoNamespace": string("Dynamo (discovery) namespace; defaults to one derived from the graph."),
    "globalDynamoNamespace": boolean("Place the component in the shared global Dynamo namespace."),
    "replicas": integer("Number of pods (or multinode groups).", minimum=0, format="int32"),
    "envs": array(ENV_VAR, "Environment of the main container."),
    "envFromSecret": string("Secret whose keys become environment variables (e.g. hf-token-secret)."),
    "resources": obj(
        {"requests": RESOURCE_ITEM, "limits": RESOURCE_ITEM, "claims": array(free_form())},
        "Resources of the main container.",
    ),
    "annotations": string_map("Annotations on the objects created for the component."),
    "labels": string_map("Labels on the objects created for the component."),
    "extraPodMetadata": obj(
        {"annotations": string_map(), "labels": string_map()}, "Extra pod metadata."
    ),
    "extraPodSpec": free_form(
        "Pod spec fields merged into the component's pods (core/v1 PodSpec).",
        mainContainer=MAIN_CONTAINER,
    ),
    "multinode": obj(
        {"nodeCount": integer("Nodes one replica spans.", minimum=1, format="int32")},
        "Spread one replica over several nodes (needs Grove or LWS).",
        required=["nodeCount"],
    ),
    "sharedMemory": obj(
        {
            "disabled": boolean("Do not mount /dev/shm as memory-backed emptyDir."),
            "size": int_or_string("Size of /dev/shm, e.g. 16Gi."),
        },
        "Shared memory for inter-process communication.",
    ),
    "volumeMounts": array(
        obj(
            {
                "name": string("Name of a PVC declared in spec.pvcs."),
                "mountPoint": string("Path in the container."),
                "useAsCompilationCache": boolean("Use this volume as the compilation cache."),
            },
            required=["name"],
        ),
        "PVCs mounted into the main container.",
    ),
    "autoscaling": obj(
        {
            "enabled": boolean(),
            "minReplicas": integer(minimum=0, format="int32"),
            "maxReplicas": integer(minimum=1, format="int32"),
            "behavior": free_form(),
            "metrics": array(free_form()),
        },
        "Deprecated: use a DynamoGraphDeploymentScalingAdapter.",
    ),
    "scalingAdapter": obj(
        {"enabled": boolean("Scale this service through a DGDSA instead of replicas.")}
    ),
    "topologyConstraint": obj({"packDomain": string("Topology domain to pack replicas into.")}),
    "modelRef": obj(
        {"name": string("DynamoModel name."), "revision": string()}, required=["name"]
    ),
    "checkpoint": obj(
        {"enabled": boolean(), "checkpointRef": string("Name of a DynamoCheckpoint to restore from.")}
    ),
    "ingress": free_form("Ingress for the component."),
    "livenessProbe": free_form("core/v1 Probe."),
    "readinessProbe": free_form("core/v1 Probe."),
    "startupProbe": free_form("core/v1 Probe."),
}


# --- v1beta1 -------------------------------------------------------------------------------

# A DNS-label-like component name: upstream's +kubebuilder markers on v1beta1 `name`.
COMPONENT_NAME = string(
    "Stable name of the component in its graph; unique, case-insensitively.",
    minLength=1, maxLength=63, pattern="^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$",
)

QUANTITY_MAP = obj(description="Resource quantities by name.", additionalProperties=int_or_string())

CONTAINER = free_form(
    "core/v1 Container; the operator merges its defaults into the one named main.",
    name=string("Container name; main is the component's own container."),
    image=string("Container image."),
    command=array(string()),
    args=array(string()),
    workingDir=string(),
    env=array(ENV_VAR),
    envFrom=array(free_form("core/v1 EnvFromSource, e.g. secretRef: {name: hf-token-secret}.")),
    resources=obj({"limits": QUANTITY_MAP, "requests": QUANTITY_MAP, "claims": array(free_form())}),
)
# Required only as a list-map key would be; sidecars without an image are the operator's to refuse.
CONTAINER["required"] = ["name"]

POD_TEMPLATE = obj(
    {
        "metadata": obj({"labels": string_map(), "annotations": string_map()}),
        "spec": free_form(
            "core/v1 PodSpec of the component's pods.",
            containers=array(CONTAINER),
            initContainers=array(CONTAINER),
        ),
    },
    "core/v1 PodTemplateSpec of the component's pods.",
)

COMPONENT_V1BETA1_PROPERTIES: dict[str, Schema] = {
    "name": COMPONENT_NAME,
    "type": enum(V1BETA1_COMPONENT_TYPES, "Role of the component in the graph."),
    "runtimeVersion": string(
        "Dynamo runtime version of the component (x.y.z); derived from the image tag when omitted.",
        pattern="^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$",
    ),
    "globalDynamoNamespace": boolean("Place the component in the shared global Dynamo namespace."),
    "podTemplate": POD_TEMPLATE,
    "replicas": integer("Number of pods (or multinode groups).", minimum=0, default=1, format="int32"),
    "multinode": obj(
        {"nodeCount": integer("Nodes one replica spans.", minimum=1, format="int32")},
        "Spread one replica over several nodes (needs Grove or LWS).",
    ),
    "sharedMemorySize": int_or_string("Size of /dev/shm; \"0\" disables it, unset means the operator default."),
    "modelRef": obj({"name": string("DynamoModel base model name."), "revision": string()}, required=["name"]),
    "scalingAdapter": obj(description="Present (even {}) to let a DGDSA own replicas."),
    "eppConfig": free_form("Endpoint Picker settings; only for type epp."),
    "frontendSidecar": string("Name of a podTemplate container that runs the frontend as a sidecar."),
    "compilationCache": free_form("PVC-backed compilation cache."),
    "topologyConstraint": obj({"packDomain": string("Topology domain to pack replicas into.")}, required=["packDomain"]),
    "experimental": free_form("Preview features outside the v1beta1 compatibility promise."),
}
EPP_CONFIG_RULE = {
    "rule": "!has(self.eppConfig) || (has(self.type) && self.type == 'epp')",
    "message": "eppConfig may only be set when type is epp",
}
COMPONENT_V1BETA1 = obj(
    COMPONENT_V1BETA1_PROPERTIES, required=["name"], **{"x-kubernetes-validations": [EPP_CONFIG_RULE]}
)


def crd() -> CRD:
    component_spec = obj(
        {
            **COMPONENT_SPEC_PROPERTIES,
            "backendFramework": enum(BACKEND_FRAMEWORKS),
            "serviceName": string("Name of the service in its graph."),
        }
    )
    component_spec_v1beta1 = obj(
        {**COMPONENT_V1BETA1_PROPERTIES, "backendFramework": enum(BACKEND_FRAMEWORKS)},
        **{"x-kubernetes-validations": [EPP_CONFIG_RULE]},
    )
    return CRD("DynamoComponentDeployment", "dynamocomponentdeployments", ["dcd"], [
        Version("v1alpha1", component_spec, COMPONENT_STATUS, deprecated=True, columns=READY_COLUMNS),
        Version("v1beta1", component_spec_v1beta1, COMPONENT_STATUS, storage=True, columns=READY_COLUMNS),
    ])
