"""CRDs of the bundled Grove and KAI Scheduler subcharts.

Those projects own their APIs; we ship only their group/version/kind so the bundled install is
self-contained and the operator's grove.io / scheduling.run.ai checks pass. Their specs keep
unknown fields, leaving validation to the owning controllers.
"""

from __future__ import annotations

from typing import Any

from .openapi import free_form, obj, string

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
