"""The Dynamo CRDs (group nvidia.com, v1alpha1), with structural OpenAPI v3 schemas.

Fields follow the Dynamo CRD reference. Embedded Kubernetes types (pod specs, probes, HPA
behaviour) keep unknown fields rather than copying the whole core/v1 schema, which is what pushed
upstream's CRDs to ~2.9 MB; fields users set often are typed so a wrong type is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .openapi import (
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

GROUP = "nvidia.com"
VERSION = "v1alpha1"

COMPONENT_TYPES = ["frontend", "worker", "prefill", "decode", "planner", "router", "epp", "main"]
BACKEND_FRAMEWORKS = ["vllm", "sglang", "trtllm"]

ENV_VAR = obj(
    {
        "name": string("Environment variable name."),
        "value": string("Literal value."),
        "valueFrom": free_form("Source of the value (core/v1 EnvVarSource)."),
    },
    required=["name"],
)

RESOURCE_ITEM = obj(
    {
        "cpu": string("CPU quantity, e.g. \"4\" or \"500m\"."),
        "memory": string("Memory quantity, e.g. \"40Gi\"."),
        "gpu": string("Number of GPUs, e.g. \"1\"."),
        "gpuType": string("GPU resource name when not nvidia.com/gpu."),
        "custom": string_map("Other extended resources, e.g. vpc.amazonaws.com/efa or rdma/ib."),
    },
)

CONDITION = obj(
    {
        "type": string(),
        "status": enum(["True", "False", "Unknown"]),
        "observedGeneration": integer(format="int64", minimum=0),
        "lastTransitionTime": string(format="date-time"),
        "reason": string(),
        "message": string(),
    },
    required=["type", "status"],
)

CONDITIONS = array(
    CONDITION,
    "Standard Kubernetes conditions, e.g. Ready.",
    **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
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

PVC = obj(
    {
        "name": string("PVC name."),
        "create": boolean("Create the PVC with the graph."),
        "storageClass": string(),
        "size": int_or_string(),
        "volumeAccessMode": string(),
    },
    required=["name"],
)

COMPONENT_STATUS = obj(
    {
        "state": string("Aggregate state, e.g. pending, successful, failed."),
        "conditions": CONDITIONS,
        "observedGeneration": integer(format="int64"),
    },
    **{"x-kubernetes-preserve-unknown-fields": True},
)

READY_COLUMNS = [
    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
    {"name": "Backend", "type": "string", "jsonPath": ".spec.backendFramework"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


@dataclass
class CRD:
    kind: str
    plural: str
    short_names: list[str]
    spec: Schema
    status: Schema
    columns: list[dict[str, str]] = field(default_factory=list)
    scale: dict[str, str] | None = None
    spec_required: bool = True

    @property
    def name(self) -> str:
        return f"{self.plural}.{GROUP}"

    def manifest(self) -> dict[str, Any]:
        root = obj(
            {
                "apiVersion": string(),
                "kind": string(),
                "metadata": obj(),
                "spec": self.spec,
                "status": self.status,
            },
            required=["spec"] if self.spec_required else None,
        )
        version: dict[str, Any] = {
            "name": VERSION,
            "served": True,
            "storage": True,
            "schema": {"openAPIV3Schema": root},
            "subresources": {"status": {}},
        }
        if self.scale:
            version["subresources"]["scale"] = self.scale
        if self.columns:
            version["additionalPrinterColumns"] = self.columns
        return {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": self.name,
                "labels": {"app.kubernetes.io/part-of": "dynamo-platform"},
            },
            "spec": {
                "group": GROUP,
                "names": {
                    "kind": self.kind,
                    "listKind": f"{self.kind}List",
                    "plural": self.plural,
                    "singular": self.kind.lower(),
                    "shortNames": self.short_names,
                    "categories": ["dynamo"],
                },
                "scope": "Namespaced",
                "versions": [version],
            },
        }


def all_crds() -> list[CRD]:
    graph_spec = obj(
        {
            "services": obj(
                description="Components of the graph by name (Frontend, decode, prefill, ...).",
                additionalProperties=obj(COMPONENT_SPEC_PROPERTIES),
                minProperties=1,
            ),
            "backendFramework": enum(BACKEND_FRAMEWORKS, "Inference backend of the workers."),
            "envs": array(ENV_VAR, "Environment given to every component."),
            "pvcs": array(PVC, "PVCs the graph's components can mount."),
            "topologyConstraint": obj(
                {"topologyProfile": string("ClusterTopology name."), "packDomain": string()}
            ),
            "restart": obj(
                {"id": string("Change to trigger a restart."), "strategy": free_form()}
            ),
        },
        required=["services"],
    )
    component_spec = obj(
        {
            **COMPONENT_SPEC_PROPERTIES,
            "backendFramework": enum(BACKEND_FRAMEWORKS),
            "serviceName": string("Name of the service in its graph."),
        }
    )
    request_spec = obj(
        {
            "model": string("Model to deploy, e.g. Qwen/Qwen3-0.6B."),
            "backend": enum(["auto", *BACKEND_FRAMEWORKS], "Backend, or auto to let profiling choose."),
            "image": string("Profiler/planner image."),
            "autoApply": boolean("Apply the generated DGD when profiling ends."),
            "sla": obj(
                {
                    "ttft": {"type": "number", "minimum": 0},
                    "itl": {"type": "number", "minimum": 0},
                    "isl": integer(minimum=1),
                    "osl": integer(minimum=1),
                },
                "Latency targets in ms and sequence lengths.",
            ),
            "workload": free_form(),
            "hardware": free_form(),
            "features": obj(
                {"planner": free_form(), "mocker": obj({"enabled": boolean()})}
            ),
            "overrides": obj({"dgd": free_form("Fields merged into the generated DGD.")}),
        },
        required=["model"],
    )
    request_status = obj(
        {
            "phase": enum(["Pending", "Profiling", "Deploying", "Deployed", "Ready", "Failed"]),
            "conditions": CONDITIONS,
            "observedGeneration": integer(format="int64"),
            "generatedDeployment": free_form(),
        }
    )
    model_spec = obj(
        {
            "modelName": string("Name served by the frontend."),
            "baseModelName": string("Base model; matches the DGD modelRef."),
            "modelType": enum(["base", "lora", "adapter"]),
            "source": obj({"uri": string("Where to load the model or adapter from.")}),
        },
        required=["modelName", "baseModelName"],
    )
    model_status = obj(
        {
            "conditions": CONDITIONS,
            "readyEndpoints": integer(minimum=0),
            "totalEndpoints": integer(minimum=0),
            "endpoints": array(free_form()),
        }
    )
    adapter_spec = obj(
        {
            "dgdRef": obj(
                {"name": string("DynamoGraphDeployment name."), "serviceName": string("Service to scale.")},
                required=["name", "serviceName"],
            ),
            "replicas": integer("Desired replicas of the service.", minimum=0, format="int32"),
        },
        required=["dgdRef"],
    )
    adapter_status = obj(
        {
            "replicas": integer(minimum=0, format="int32"),
            "selector": string("Label selector of the service's pods, for the scale subresource."),
            "lastScaleTime": string(format="date-time"),
        }
    )
    checkpoint_spec = obj(
        {
            "identity": free_form(
                "What the checkpoint captures (model, backend, parallelism).",
                model=string(),
                backendFramework=enum(BACKEND_FRAMEWORKS),
                tensorParallelSize=integer(minimum=1),
                pipelineParallelSize=integer(minimum=1),
                dtype=string(),
                maxModelLen=integer(minimum=1),
            ),
            "job": obj(
                {
                    "podTemplateSpec": free_form("Pod template of the checkpoint job (core/v1)."),
                    "activeDeadlineSeconds": integer(minimum=1, format="int64"),
                    "backoffLimit": integer("Deprecated and ignored.", minimum=0, format="int32"),
                    "targetContainerName": string("Container to checkpoint; default main."),
                },
                required=["podTemplateSpec"],
            ),
        },
        required=["identity", "job"],
    )
    checkpoint_status = obj(
        {
            "phase": enum(["Pending", "Creating", "Ready", "Failed"]),
            "checkpointID": string(),
            "identityHash": string("Deprecated alias of checkpointID."),
            "jobName": string(),
            "createdAt": string(format="date-time"),
            "message": string(),
            "conditions": CONDITIONS,
        }
    )
    return [
        CRD("DynamoGraphDeployment", "dynamographdeployments", ["dgd"], graph_spec, COMPONENT_STATUS, READY_COLUMNS),
        CRD("DynamoComponentDeployment", "dynamocomponentdeployments", ["dcd"], component_spec, COMPONENT_STATUS, READY_COLUMNS),
        CRD(
            "DynamoGraphDeploymentRequest",
            "dynamographdeploymentrequests",
            ["dgdr"],
            request_spec,
            request_status,
            [
                {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                {"name": "Model", "type": "string", "jsonPath": ".spec.model"},
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            ],
        ),
        CRD("DynamoModel", "dynamomodels", ["dm"], model_spec, model_status),
        CRD(
            "DynamoGraphDeploymentScalingAdapter",
            "dynamographdeploymentscalingadapters",
            ["dgdsa"],
            adapter_spec,
            adapter_status,
            [
                {"name": "DGD", "type": "string", "jsonPath": ".spec.dgdRef.name"},
                {"name": "Service", "type": "string", "jsonPath": ".spec.dgdRef.serviceName"},
                {"name": "Replicas", "type": "integer", "jsonPath": ".status.replicas"},
            ],
            scale={
                "specReplicasPath": ".spec.replicas",
                "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": ".status.selector",
            },
        ),
        CRD(
            "DynamoCheckpoint",
            "dynamocheckpoints",
            ["dckpt"],
            checkpoint_spec,
            checkpoint_status,
            [
                {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                {"name": "Job", "type": "string", "jsonPath": ".status.jobName"},
            ],
        ),
        CRD(
            "DynamoWorkerMetadata",
            "dynamoworkermetadatas",
            ["dwm"],
            obj({"data": free_form("Endpoints and model cards a worker registered.")}),
            obj(),
        ),
    ]
