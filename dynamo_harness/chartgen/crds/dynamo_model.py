"""DynamoModel (dm): a base model or adapter served by a graph's components, as upstream's
dynamo_model_types.go."""

from __future__ import annotations

from ..openapi import array, enum, free_form, integer, obj, string
from .common import CONDITIONS
from .crd import CRD, Version

COLUMNS = [
    {"name": "BaseModel", "type": "string", "jsonPath": ".spec.baseModelName"},
    {"name": "Type", "type": "string", "jsonPath": ".spec.modelType"},
    {"name": "Ready", "type": "integer", "jsonPath": ".status.readyEndpoints"},
    {"name": "Total", "type": "integer", "jsonPath": ".status.totalEndpoints"},
]


def crd() -> CRD:
    model_spec = obj(
        {
            "modelName": string("Name served by the frontend."),
            "baseModelName": string("Base model; matches the DGD modelRef."),
            "modelType": enum(["base", "lora", "adapter"]),
            "source": obj({"uri": string("Where to load the model or adapter from.")}),
        },
        required=["modelName", "baseModelName"],
    )
    model_spec_v1beta1 = obj(
        {
            "modelName": string("Full model identifier served by the frontend."),
            "baseModelName": string("Base model; matches the component's modelRef."),
            "modelType": {**enum(["base", "lora", "adapter"]), "default": "base"},
            "source": obj({"uri": string("s3://bucket/path or hf://org/model@revision.")}, required=["uri"]),
        },
        required=["modelName", "baseModelName"],
    )
    model_status = obj(
        {
            "conditions": CONDITIONS,
            "readyEndpoints": integer(minimum=0),
            "totalEndpoints": integer(minimum=0),
            "endpoints": array(free_form()),
        }
    )
    return CRD("DynamoModel", "dynamomodels", ["dm"], [
        Version("v1alpha1", model_spec, model_status, storage=True, columns=COLUMNS),
        Version("v1beta1", model_spec_v1beta1, model_status, columns=COLUMNS),
    ])
