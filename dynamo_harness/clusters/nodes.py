"""Simulated node pools shaped like the clouds the overlays target (kwok nodes on `local`).

Each pool says what a real node of that cloud advertises: capacity (GPUs, EFA devices),
labels the overlays select on, and taints the overlays must tolerate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KWOK_ANNOTATION = {"kwok.x-k8s.io/node": "fake"}
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
SPOT_TAINT = {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}


@dataclass(frozen=True)
class NodePool:
    name: str
    count: int
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[dict[str, str], ...] = ()
    capacity: dict[str, str] = field(default_factory=dict)

    def manifests(self) -> list[dict[str, Any]]:
        capacity = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "500Gi", **self.capacity}
        return [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": f"{self.name}-{i}",
                    "annotations": KWOK_ANNOTATION,
                    "labels": {
                        "type": "kwok",
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "kubernetes.io/hostname": f"{self.name}-{i}",
                        "topology.kubernetes.io/zone": f"zone-{i % 3}",
                        "dynamo-platform.test/pool": self.name,
                        **self.labels,
                    },
                },
                "spec": {"taints": list(self.taints)},
                "status": {"capacity": capacity, "allocatable": capacity},
            }
            for i in range(self.count)
        ]


GPU_LABELS = {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}

POOLS = [
    # CPU system pool: where platform pods land when nothing steers them.
    NodePool("system", 3),
    NodePool("gpu", 2, GPU_LABELS, (GPU_TAINT,), {"nvidia.com/gpu": "8"}),
    NodePool(
        "aks-spot",
        3,
        {"kubernetes.azure.com/scalesetpriority": "spot", **GPU_LABELS},
        (SPOT_TAINT,),
        {"nvidia.com/gpu": "1"},
    ),
    NodePool(
        "eks-efa",
        2,
        {"node.kubernetes.io/instance-type": "p5.48xlarge", **GPU_LABELS},
        (GPU_TAINT,),
        {"nvidia.com/gpu": "8", "vpc.amazonaws.com/efa": "32", "hugepages-2Mi": "10Gi"},
    ),
    NodePool(
        "gke-l4",
        2,
        {"cloud.google.com/gke-accelerator": "nvidia-l4", "cloud.google.com/gke-nodepool": "gpu-pool", **GPU_LABELS},
        (GPU_TAINT,),
        {"nvidia.com/gpu": "2"},
    ),
]


def all_nodes() -> list[dict[str, Any]]:
    return [node for pool in POOLS for node in pool.manifests()]


def is_simulated(node: dict[str, Any]) -> bool:
    return node.get("metadata", {}).get("annotations", {}).get("kwok.x-k8s.io/node") == KWOK_ANNOTATION["kwok.x-k8s.io/node"]


def placement(pod: dict[str, Any], nodes_by_name: dict[str, dict[str, Any]]) -> str:
    """For a report row: "running on <node>" when a kubelet runs the pod's containers,
    "simulated (kwok)" when kwok only marks it Running, "not scheduled" before either."""
    name = pod.get("spec", {}).get("nodeName")
    if not name:
        return "not scheduled"
    return "simulated (kwok)" if is_simulated(nodes_by_name.get(name, {})) else f"running on {name}"


def workload_placement(kubectl, namespace: str) -> list:
    """One report row per Deployment/StatefulSet in `namespace`: where its pods run. A workload on
    kwok passes as "simulated (kwok)", never as plainly ready."""
    from ..conformance.result import failed, passed

    nodes_by_name = {n["metadata"]["name"]: n for n in kubectl.items("nodes")}
    pods = kubectl.items("pods", "-n", namespace)
    rows = []
    for workload in kubectl.items("deployments,statefulsets", "-n", namespace):
        selector = workload["spec"]["selector"].get("matchLabels", {})
        mine = [p for p in pods if selector and selector.items() <= p["metadata"].get("labels", {}).items()]
        where = sorted({placement(p, nodes_by_name) for p in mine})
        name = f"{workload['kind'].lower()}/{workload['metadata']['name']}"
        if where and "not scheduled" not in where:
            rows.append(passed(name, ", ".join(where), pods=len(mine)))
        else:
            rows.append(failed(name, f"pods: {where or 'none'}"))
    return rows
