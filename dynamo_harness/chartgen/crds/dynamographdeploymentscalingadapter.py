"""DynamoGraphDeploymentScalingAdapter (dgdsa): the scale subresource of one graph component, for
autoscalers, as upstream's dynamographdeploymentscalingadapter_types.go. v1alpha1 names the
component by its services key, v1beta1 by its components name."""

from __future__ import annotations

from ..openapi import integer, obj, string
from .crd import CRD, Version

SCALE = {
    "specReplicasPath": ".spec.replicas",
    "statusReplicasPath": ".status.replicas",
    "labelSelectorPath": ".status.selector",
}


def columns(target: str, path: str) -> list[dict[str, str]]:
    return [
        {"name": "DGD", "type": "string", "jsonPath": ".spec.dgdRef.name"},
        {"name": target, "type": "string", "jsonPath": path},
        {"name": "Replicas", "type": "integer", "jsonPath": ".status.replicas"},
    ]


def crd() -> CRD:
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
    return CRD("DynamoGraphDeploymentScalingAdapter", "dynamographdeploymentscalingadapters", ["dgdsa"], [
        Version("v1alpha1", adapter_spec, adapter_status, storage=True, scale=SCALE,
                columns=columns("Service", ".spec.dgdRef.serviceName")),
        Version("v1beta1", adapter_spec_v1beta1, adapter_status, scale=SCALE,
                columns=columns("Component", ".spec.dgdRef.componentName")),
    ])
