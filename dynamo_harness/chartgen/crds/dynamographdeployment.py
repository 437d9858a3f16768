"""DynamoGraphDeployment (dgd): a graph of components, as upstream's dynamographdeployment_types.go.
v1alpha1 keys its components by name in a map (services), v1beta1 lists them (components) with
upstream's list-map and CEL rules.

Dynamo 1.6.0 facts, each from a GitHub fork's copy of upstream's release tree (no ai-dynamo/dynamo
commit in the public source index ties the operator's CRDs to a release):
- v1beta1 stores, v1alpha1 is served, deprecated, with the warning "nvidia.com/v1alpha1
  DynamoGraphDeployment is deprecated; use nvidia.com/v1beta1 DynamoGraphDeployment":
  `deploy/operator/config/crd/bases/nvidia.com_dynamographdeployments.yaml` in tu-kim/dynamo @
  3f3d3dfa22e790642d10c1ffcf5d72750f4f91a8 (its platform Chart.yaml: 1.6.0), as in the 1.5.0 copy
  in yueying-AIHorizon/dynamo @ 3d741331e55038cee2f24f4a0d3e3592cd89bbd3 (Chart.yaml: 1.5.0).
- The v1beta1 spec markers: `deploy/operator/api/v1beta1/dynamographdeployment_types.go` and
  `common.go` in michaelfeil/dynamo @ 86e34d1eb9410e234c41e6d3fa812f89d7ba7656 (README badge
  1.6.0, the 1.6.0 dev cycle; `+kubebuilder:storageversion`): components MaxItems=25 with the epp
  and unique-name rules; spec.restart unset on create (optionalOldSelf); restart.strategy.type
  Parallel when a component has type lpx; Restart {id (required, non-empty), strategy {type
  Sequential|Parallel default Sequential, order}}.
"""

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
            {"rule": "self.all(c1, !has(c1.name) || self.filter(c2, has(c2.name) && c2.name.lowerAscii() == c1.name.lowerAscii()).size() == 1)",
             "message": "component names must be unique case-insensitively"},
        ],
    },
)

# Restart of a v1beta1 graph (common.go `Restart`, `RestartStrategy`).
RESTART_V1BETA1 = obj(
    {
        "id": string("Change to trigger a restart; set only after the graph was created.", minLength=1),
        "strategy": obj(
            {
                "type": {**enum(["Sequential", "Parallel"], "How components restart."), "default": "Sequential"},
                "order": array(string(), "Component names in restart order (Sequential only); empty: the operator's order."),
            },
        ),
    },
    required=["id"],
)

# Spec-level rules of v1beta1 (dynamographdeployment_types.go at 1.6.0).
SPEC_RULES_V1BETA1 = [
    {"rule": "oldSelf.hasValue() || !has(self.restart)", "optionalOldSelf": True,
     "message": "spec.restart must be unset on create; set spec.restart.id after creation to request a restart"},
    {"rule": "!has(self.restart) || !has(self.components) || !self.components.exists(c, has(c.type) && c.type == 'lpx') || "
             "(has(self.restart.strategy) && has(self.restart.strategy.type) && self.restart.strategy.type == 'Parallel')",
     "message": "spec.restart.strategy.type must be Parallel when the graph contains LPX components"},
]


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
            "restart": RESTART_V1BETA1,
            "topologyConstraint": obj(
                {"clusterTopologyName": string("ClusterTopology name."), "packDomain": string()}
            ),
            "providerOverride": free_form("Overrides of the root resource of the workload provider (Grove)."),
            "experimental": free_form("Preview features outside the v1beta1 compatibility promise."),
        },
        **{"x-kubernetes-validations": SPEC_RULES_V1BETA1},
    )
    return CRD("DynamoGraphDeployment", "dynamographdeployments", ["dgd"], [
        Version("v1alpha1", graph_spec, COMPONENT_STATUS, deprecated=True, columns=READY_COLUMNS),
        Version("v1beta1", graph_spec_v1beta1, COMPONENT_STATUS, storage=True, columns=READY_COLUMNS),
    ])
