"""Simulated node pools shaped like the clouds the overlays target (kwok nodes on `local`).

Each pool says what a real node of that cloud advertises: capacity (GPUs, EFA devices),
labels the overlays select on, and taints the overlays must tolerate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..kube import KWOK_NODE_ANNOTATION

KWOK_ANNOTATION = {KWOK_NODE_ANNOTATION: "fake"}
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


# The workers of a kind cluster (clusters/kind.py): one real node per entry, labelled and tainted
# like that pool above. Each layout has three nodes that the platform's own pods tolerate, so a
# three-member etcd and NATS spread over three (DoNotSchedule on hostname); the GPU pools stay
# simulated (kwok) where a GPU is needed. "clouds", the test session's, serves every overlay at
# once: three system workers (the system pools of AKS, EKS and GKE) and AKS's spot pool, three
# strong, so the spot-pinned install spreads too.
KIND_LAYOUTS = {
    "clouds": ("system", "system", "system", "aks-spot", "aks-spot", "aks-spot"),
    "aks-spot": ("system", "aks-spot", "aks-spot"),  # AKS: the system pool and the spot pool
    "eks-efa": ("system", "system", "system"),
    "gke": ("system", "system", "system"),
}


def all_nodes() -> list[dict[str, Any]]:
    return [node for pool in POOLS for node in pool.manifests()]
