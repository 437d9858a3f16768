"""DynamoGraphDeploymentRequest (dgdr): profile a model against an SLA and generate its graph, as
upstream's dynamographdeploymentrequest_types.go. v1beta1 stores (upstream's 1.3 storage-version
migration); v1alpha1 is deprecated."""

from __future__ import annotations

from ..openapi import boolean, enum, free_form, integer, number, obj, string
from .common import BACKEND_FRAMEWORKS, CONDITIONS
from .crd import CRD, Version

GPU_SKUS = ["gb200_sxm", "b200_sxm", "h200_sxm", "h100_sxm", "h100_pcie", "a100_sxm", "a100_pcie", "a30",
            "l40s", "l40", "l4", "v100_sxm", "v100_pcie", "t4", "mi200", "mi300"]

COLUMNS = [
    {"name": "Model", "type": "string", "jsonPath": ".spec.model"},
    {"name": "Backend", "type": "string", "jsonPath": ".spec.backend"},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "DGD", "type": "string", "jsonPath": ".status.dgdName"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def crd() -> CRD:
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
    return CRD("DynamoGraphDeploymentRequest", "dynamographdeploymentrequests", ["dgdr"], [
        Version("v1alpha1", request_spec, request_status, deprecated=True, columns=COLUMNS),
        Version("v1beta1", request_spec_v1beta1, request_status, storage=True, columns=COLUMNS),
    ])
