"""DynamoGraphDeployment (dgd): a graph of components, as upstream's dynamographdeployment_types.go.
v1alpha1 keys its components by name in a map (services), v1beta1 lists them (components) with
upstream's list-map and CEL rules."""

from __future__ import annotations

from ..openapi import array, boolean, enum, free_form, int_or_string, obj, string, string_map
from .common import BACKEND_FRAMEWORKS, COMPONENT_STATUS, ENV_VAR, READY_COLUMNS
from .crd import CRD, Version
from .dynamocomponentdeployment import COMPONENT_SPEC_PROPERTIES, COMPONENT_V1BETA1

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


def crd() -> CRD:
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
    return CRD("DynamoGraphDeployment", "dynamographdeployments", ["dgd"], [
        Version("v1alpha1", graph_spec, COMPONENT_STATUS, storage=True, deprecated=True, columns=READY_COLUMNS),
        Version("v1beta1", graph_spec_v1beta1, COMPONENT_STATUS, columns=READY_COLUMNS),
    ])
