"""CRDs of the bundled Grove, KAI Scheduler and LeaderWorkerSet subcharts.

Those projects own their APIs. For Grove and KAI we ship only their group/version/kind so the
bundled install is self-contained and the operator's grove.io / scheduling.run.ai checks pass;
their specs keep unknown fields, leaving validation to the owning controllers. LWS's CRD is
copied whole from its pinned module (hack/tools/crds, fetched by hack/bootstrap.sh).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..paths import CRD_SCHEMAS
from .openapi import free_form, obj, string

# (chart, module, file under the module's CRD directory) of CRDs vendored verbatim.
VERBATIM = [("lws", "sigs.k8s.io/lws", "leaderworkerset.x-k8s.io_leaderworkersets.yaml")]


def verbatim_crds() -> list[tuple[str, str, str]]:
    """(chart, file name, text) of each CRD copied from its project's module."""
    out = []
    for chart, module, name in VERBATIM:
        source: Path = CRD_SCHEMAS / module / name
        if not source.exists():
            raise SystemExit(f"{source} is missing: run hack/bootstrap.sh (it copies CRDs from hack/tools/crds)")
        out.append((chart, name, source.read_text()))
    return out

# (chart, group, version, kind, plural, scope, short names)
FOREIGN = [
    ("grove", "grove.io", "v1alpha1", "PodCliqueSet", "podcliquesets", "Namespaced", ["pcs"]),
    ("grove", "grove.io", "v1alpha1", "PodClique", "podcliques", "Namespaced", ["pclq"]),
    ("grove", "grove.io", "v1alpha1", "PodCliqueScalingGroup", "podcliquescalinggroups", "Namespaced", ["pcsg"]),
    ("grove", "grove.io", "v1alpha1", "ClusterTopology", "clustertopologies", "Cluster", ["ct"]),
    ("grove", "scheduler.grove.io", "v1alpha1", "PodGang", "podgangs", "Namespaced", ["pg"]),
    ("kai-scheduler", "scheduling.run.ai", "v2", "Queue", "queues", "Cluster", ["q"]),
    ("kai-scheduler", "scheduling.run.ai", "v2alpha2", "PodGroup", "podgroups", "Namespaced", ["pogr"]),
    ("kai-scheduler", "scheduling.run.ai", "v1alpha2", "BindRequest", "bindrequests", "Namespaced", ["br"]),
]


def all_crds() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for chart, group, version, kind, plural, scope, short in FOREIGN:
        schema = obj(
            {
                "apiVersion": string(),
                "kind": string(),
                "metadata": obj(),
                "spec": free_form(),
                "status": free_form(),
            }
        )
        out.append(
            (
                chart,
                {
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": f"{plural}.{group}", "labels": {"app.kubernetes.io/part-of": "dynamo-platform"}},
                    "spec": {
                        "group": group,
                        "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower(), "shortNames": short},
                        "scope": scope,
                        "versions": [
                            {
                                "name": version,
                                "served": True,
                                "storage": True,
                                "schema": {"openAPIV3Schema": schema},
                                "subresources": {"status": {}},
                            }
                        ],
                    },
                },
            )
        )
    return out
