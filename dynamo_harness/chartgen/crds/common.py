"""Field schemas more than one kind uses, as upstream's api/<version>/common.go holds shared types."""

from __future__ import annotations

from ..openapi import array, enum, free_form, integer, obj, string

BACKEND_FRAMEWORKS = ["vllm", "sglang", "trtllm"]

ENV_VAR = obj(
    {
        "name": string("Environment variable name."),
        "value": string("Literal value."),
        "valueFrom": free_form("Source of the value (core/v1 EnvVarSource)."),
    },
    required=["name"],
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

# Status and columns of the graph and of its components.
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
