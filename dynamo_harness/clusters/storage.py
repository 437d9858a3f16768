"""Storage for the local cluster, where no CSI driver runs.

Every StorageClass the overlays name exists (with `standard` as the cluster default, like kind),
backed by pre-made PersistentVolumes that the real PV controller binds claims to. `top_up`
keeps a few Available volumes per class, since bound ones are retained after uninstall.
"""

from __future__ import annotations

import uuid
from typing import Any

CLASSES = ("standard", "gp3", "efs-sc", "standard-rwo", "managed-csi")
DEFAULT_CLASS = "standard"
VOLUME_SIZE = "2Ti"  # large enough for any claim the chart makes


def storage_classes(names: tuple[str, ...] = CLASSES) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": name,
                "annotations": {"storageclass.kubernetes.io/is-default-class": str(name == DEFAULT_CLASS).lower()},
            },
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "Immediate",
            "reclaimPolicy": "Retain",
        }
        for name in names
    ]


def volumes(storage_class: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": f"pv-{storage_class}-{uuid.uuid4().hex[:8]}", "labels": {"dynamo-platform.test/pool": storage_class}},
            "spec": {
                "storageClassName": storage_class,
                "capacity": {"storage": VOLUME_SIZE},
                "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
                "persistentVolumeReclaimPolicy": "Retain",
                # Never mounted: kwok runs no containers. The path only makes the PV valid.
                "hostPath": {"path": f"/tmp/dynamo-local-pv/{storage_class}"},
            },
        }
        for _ in range(count)
    ]
