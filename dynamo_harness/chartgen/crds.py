"""The Dynamo CRDs (group nvidia.com): v1alpha1 and v1beta1, with structural OpenAPI v3 schemas.

Which version each kind serves and stores, which is deprecated (and its warning), the v1beta1
shapes, enums, limits and CEL rules follow upstream at the pinned release (UPSTREAM below):
the kubebuilder markers of ai-dynamo/dynamo `deploy/operator/api/v1beta1/*_types.go` and the
platform chart's `components/operator/crds/`. Embedded Kubernetes types (pod templates, probes,
Job specs) keep unknown fields rather than copying the whole core/v1 schema, which is what pushed
upstream's CRDs to ~2.9 MB; fields users set often are typed so a wrong type is rejected.
Conversion between the versions is the operator's webhook; templates/crds.yaml wires it.
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
    number,
    obj,
    string,
    string_map,
)

GROUP = "nvidia.com"

# Where the facts come from (read through the public source index; the module proxy serves no
# ai-dynamo/dynamo operator module, so no release tree could be read whole):
# - Dynamo 1.3.0: platform chart 1.3.0 (grove v0.1.0-alpha.8, kai-scheduler v0.13.4) at
#   03a5d4b6e2bd95bbf0793191873c9dbf91179383; its operator CRDs (DGDSA: both versions, v1alpha1
#   stored, dgdRef.componentName in v1beta1) at 02046efff6767b6971dcaa95799fe69121246bfa; its DGDR
#   storage-version migration hook (DGDR stores v1beta1) at c52ddd125e34d703223318e2ef894cd42d5d1ebd.
#   Upstream's docs for 1.3.x: DGD still stores v1alpha1 and warns that v1alpha1 is deprecated.
# - v1beta1 shapes from api/v1beta1 copies on upstream's main, newer than 1.3 (that copy of the DGD
#   types already stores v1beta1; this chart keeps 1.3's v1alpha1): component markers (name 1-63
#   characters and pattern, replicas >= 0, the epp and unique-name CEL rules) at
#   0fddc01b37244c4cfa5bcfd1c2e4f1a577ee833c; DGDR and DynamoModel fields and enums at
#   01417e96e5a46abced0e05e7fb629ab8dd950150 and 50820f5b16d01bf85205a5fa649e76ff68300c65, without
#   the later v1beta2 envelope. The DGDR field table of the seed docs gives the workload defaults.
# - Ours, not upstream's markers: replicas default 1 (the copy read leaves defaulting to the
#   operator; the issue asks for it) and the CEL wording of the DGDR rules the docs state in prose
#   (e2eLatency excludes ttft/itl; concurrency excludes requestRate).
UPSTREAM = {
    "dynamo": "1.3.0",
    "chart": "03a5d4b6e2bd95bbf0793191873c9dbf91179383",
    "operator-crds": "02046efff6767b6971dcaa95799fe69121246bfa",
    "storage-migration": "c52ddd125e34d703223318e2ef894cd42d5d1ebd",
    "api-v1beta1": "0fddc01b37244c4cfa5bcfd1c2e4f1a577ee833c",
}

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
    "type": enum(COMPONENT_TYPES, "Role of the component in the graph."),
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

COMPONENTS = array(
    COMPONENT_V1BETA1,
    "Components of the graph, keyed by name (Frontend, VllmDecodeWorker, ...).",
    maxItems=25,
    **{
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        "x-kubernetes-validations": [
            {"rule": "self.filter(c, has(c.type) && c.type == 'epp').size() <= 1",
             "message": "at most one component may have type epp"},
            {"rule": "self.all(c1, self.filter(c2, c2.name.lowerAscii() == c1.name.lowerAscii()).size() == 1)",
             "message": "component names must be unique case-insensitively"},
        ],
    },
)

GPU_SKUS = ["gb200_sxm", "b200_sxm", "h200_sxm", "h100_sxm", "h100_pcie", "a100_sxm", "a100_pcie", "a30",
            "l40s", "l40", "l4", "v100_sxm", "v100_pcie", "t4", "mi200", "mi300"]


@dataclass
class Version:
    name: str
    spec: Schema
    status: Schema
    storage: bool = False
    deprecated: bool = False
    columns: list[dict[str, str]] = field(default_factory=list)
    scale: dict[str, str] | None = None
    spec_required: bool = True


@dataclass
class CRD:
    kind: str
    plural: str
    short_names: list[str]
    versions: list[Version]

    @property
    def name(self) -> str:
        return f"{self.plural}.{GROUP}"

    def deprecation_warning(self, version: Version) -> str:
        newest = self.versions[-1].name
        return f"{GROUP}/{version.name} {self.kind} is deprecated; use {GROUP}/{newest} {self.kind}"

    def _version(self, version: Version) -> dict[str, Any]:
        root = obj(
            {
                "apiVersion": string(),
                "kind": string(),
                "metadata": obj(),
                "spec": version.spec,
                "status": version.status,
            },
            required=["spec"] if version.spec_required else None,
        )
        out: dict[str, Any] = {"name": version.name, "served": True, "storage": version.storage}
        if version.deprecated:
            out["deprecated"] = True
            out["deprecationWarning"] = self.deprecation_warning(version)
        out["schema"] = {"openAPIV3Schema": root}
        out["subresources"] = {"status": {}}
        if version.scale:
            out["subresources"]["scale"] = version.scale
        if version.columns:
            out["additionalPrinterColumns"] = version.columns
        return out

    def manifest(self) -> dict[str, Any]:
        assert sum(v.storage for v in self.versions) == 1, f"{self.kind}: exactly one storage version"
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
                "versions": [self._version(v) for v in self.versions],
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
    graph_spec_v1beta1 = obj(
        {
            "components": COMPONENTS,
            "backendFramework": enum(BACKEND_FRAMEWORKS, "Inference backend of the workers."),
            "env": array(ENV_VAR, "Environment prepended to every component's."),
            "annotations": string_map("Annotations for every child resource; component values win."),
            "labels": string_map("Labels for every child resource; component values win."),
            "priorityClassName": string("PriorityClass of Grove PodCliqueSets."),
            "restart": obj({"id": string("Change to trigger a restart."), "strategy": free_form()}),
            "topologyConstraint": obj(
                {"clusterTopologyName": string("ClusterTopology name."), "packDomain": string()}
            ),
            "providerOverride": free_form("Overrides of the root resource of the workload provider (Grove)."),
            "experimental": free_form("Preview features outside the v1beta1 compatibility promise."),
        },
    )
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
            # Upstream v1alpha1 fields.
            "deploymentOverrides": free_form("Metadata and workers image of the auto-created DGD."),
            "enableGpuDiscovery": boolean("Deprecated and ignored: discovery is always attempted."),
            "profilingConfig": free_form("Configuration passed to the profiler."),
        },
        required=["model"],
    )
    request_status = obj(
        {
            "phase": enum(["Pending", "Profiling", "Deploying", "Deployed", "Ready", "Failed"]),
            "conditions": CONDITIONS,
            "observedGeneration": integer(format="int64"),
            "generatedDeployment": free_form(),
        },
        **{"x-kubernetes-preserve-unknown-fields": True},
    )
    request_spec_v1beta1 = obj(
        {
            "model": string("Model to deploy: a Hugging Face ID (Qwen/Qwen3-0.6B) or a private name.", minLength=1),
            "backend": enum(["auto", "sglang", "trtllm", "vllm"], "Inference backend; auto lets profiling choose."),
            "image": string("Profiling job (planner) image, e.g. nvcr.io/nvidia/ai-dynamo/dynamo-planner:<version>."),
            "searchStrategy": enum(["rapid", "thorough"], "Profiling depth."),
            "autoApply": boolean("Create the DynamoGraphDeployment when profiling ends."),
            "modelCache": obj(
                {
                    "pvcName": string("ReadWriteMany PVC holding the model weights."),
                    "pvcModelPath": string("Model directory inside the PVC."),
                    "pvcMountPath": string("Mount path in the containers.", default="/opt/model-cache"),
                }
            ),
            "hardware": obj(
                {
                    "gpuSku": enum(GPU_SKUS, "GPU type to target, lowercase with underscores (h100_sxm)."),
                    "vramMb": number("VRAM per GPU in MiB."),
                    "totalGpus": integer("GPU budget of the deployment.", format="int32"),
                    "numGpusPerNode": integer(format="int32"),
                    "interconnect": string("GPU interconnect within a node: pcie or nvlink."),
                    "rdma": boolean("RDMA networking is available."),
                }
            ),
            "workload": obj(
                {
                    "isl": integer("Input sequence length in tokens.", default=4000, format="int32"),
                    "osl": integer("Output sequence length in tokens.", default=1000, format="int32"),
                    "concurrency": number("Target concurrent requests; excludes requestRate."),
                    "requestRate": number("Target requests per second; excludes concurrency."),
                },
                **{"x-kubernetes-validations": [
                    {"rule": "!(has(self.concurrency) && has(self.requestRate))",
                     "message": "concurrency and requestRate are mutually exclusive"},
                ]},
            ),
            "sla": obj(
                {
                    "ttft": number("Time to first token target in ms."),
                    "itl": number("Inter-token latency target in ms."),
                    "e2eLatency": number("End-to-end latency target in ms; instead of ttft and itl."),
                    "optimizationType": enum(["latency", "throughput"]),
                },
                **{"x-kubernetes-validations": [
                    {"rule": "!(has(self.e2eLatency) && (has(self.ttft) || has(self.itl)))",
                     "message": "e2eLatency cannot be combined with ttft or itl"},
                ]},
            ),
            "features": obj(
                {
                    "planner": free_form("Planner configuration; its presence enables the Planner."),
                    "kvRouter": obj({"enabled": boolean()}),
                    "mocker": obj({"enabled": boolean("Deploy mocker workers instead of real inference.")}),
                }
            ),
            "overrides": obj(
                {
                    "profilingJob": free_form("batch/v1 JobSpec fields merged into the profiling Job."),
                    "trustRemoteCode": boolean("Let generated workers run the model repository's code.", default=False),
                    "dgd": {
                        **free_form("Partial DynamoGraphDeployment (nvidia.com/v1alpha1 or v1beta1) merged into the generated one."),
                        "x-kubernetes-embedded-resource": True,
                    },
                }
            ),
        },
        required=["model"],
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
    model_spec_v1beta1 = obj(
        {
            "modelName": string("Full model identifier served by the frontend."),
            "baseModelName": string("Base model; matches the component's modelRef."),
            "modelType": {**enum(["base", "lora", "adapter"]), "default": "base"},
            "source": obj({"uri": string("s3://bucket/path or hf://org/model@revision.")}, required=["uri"]),
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
                {"name": string("DynamoGraphDeployment name.", minLength=1),
                 "serviceName": string("Key of the service in the DGD's spec.services.", minLength=1)},
                required=["name", "serviceName"],
            ),
            "replicas": integer("Desired replicas of the service.", minimum=0, format="int32"),
        },
        required=["dgdRef", "replicas"],
    )
    adapter_spec_v1beta1 = obj(
        {
            "dgdRef": obj(
                {"name": string("DynamoGraphDeployment name.", minLength=1),
                 "componentName": string("Name of the entry in the DGD's spec.components.", minLength=1)},
                required=["name", "componentName"],
            ),
            "replicas": integer("Desired replicas of the component.", minimum=0, format="int32"),
        },
        required=["dgdRef", "replicas"],
    )
    adapter_status = obj(
        {
            "replicas": integer(minimum=0, format="int32"),
            "selector": string("Label selector of the service's pods, for the scale subresource."),
            "lastScaleTime": string(format="date-time"),
        }
    )
    adapter_scale = {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }

    def adapter_columns(target: str, path: str) -> list[dict[str, str]]:
        return [
            {"name": "DGD", "type": "string", "jsonPath": ".spec.dgdRef.name"},
            {"name": target, "type": "string", "jsonPath": path},
            {"name": "Replicas", "type": "integer", "jsonPath": ".status.replicas"},
        ]

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
    request_columns = [
        {"name": "Model", "type": "string", "jsonPath": ".spec.model"},
        {"name": "Backend", "type": "string", "jsonPath": ".spec.backend"},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "DGD", "type": "string", "jsonPath": ".status.dgdName"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    model_columns = [
        {"name": "BaseModel", "type": "string", "jsonPath": ".spec.baseModelName"},
        {"name": "Type", "type": "string", "jsonPath": ".spec.modelType"},
        {"name": "Ready", "type": "integer", "jsonPath": ".status.readyEndpoints"},
        {"name": "Total", "type": "integer", "jsonPath": ".status.totalEndpoints"},
    ]
    return [
        CRD("DynamoGraphDeployment", "dynamographdeployments", ["dgd"], [
            Version("v1alpha1", graph_spec, COMPONENT_STATUS, storage=True, deprecated=True, columns=READY_COLUMNS),
            Version("v1beta1", graph_spec_v1beta1, COMPONENT_STATUS, columns=READY_COLUMNS),
        ]),
        CRD("DynamoComponentDeployment", "dynamocomponentdeployments", ["dcd"], [
            Version("v1alpha1", component_spec, COMPONENT_STATUS, storage=True, columns=READY_COLUMNS),
            Version("v1beta1", component_spec_v1beta1, COMPONENT_STATUS, columns=READY_COLUMNS),
        ]),
        CRD("DynamoGraphDeploymentRequest", "dynamographdeploymentrequests", ["dgdr"], [
            Version("v1alpha1", request_spec, request_status, deprecated=True, columns=request_columns),
            Version("v1beta1", request_spec_v1beta1, request_status, storage=True, columns=request_columns),
        ]),
        CRD("DynamoModel", "dynamomodels", ["dm"], [
            Version("v1alpha1", model_spec, model_status, storage=True, columns=model_columns),
            Version("v1beta1", model_spec_v1beta1, model_status, columns=model_columns),
        ]),
        CRD("DynamoGraphDeploymentScalingAdapter", "dynamographdeploymentscalingadapters", ["dgdsa"], [
            Version("v1alpha1", adapter_spec, adapter_status, storage=True, scale=adapter_scale,
                    columns=adapter_columns("Service", ".spec.dgdRef.serviceName")),
            Version("v1beta1", adapter_spec_v1beta1, adapter_status, scale=adapter_scale,
                    columns=adapter_columns("Component", ".spec.dgdRef.componentName")),
        ]),
        CRD("DynamoCheckpoint", "dynamocheckpoints", ["dckpt"], [
            Version("v1alpha1", checkpoint_spec, checkpoint_status, storage=True, columns=[
                {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                {"name": "Job", "type": "string", "jsonPath": ".status.jobName"},
            ]),
        ]),
        CRD("DynamoWorkerMetadata", "dynamoworkermetadatas", ["dwm"], [
            Version("v1alpha1", obj({"data": free_form("Endpoints and model cards a worker registered.")}), obj(),
                    storage=True),
        ]),
    ]
