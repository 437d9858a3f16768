"""DynamoCheckpoint (dckpt): a checkpoint of a model's engine state, made by a Job, as upstream's
dynamocheckpoint_types.go. Served as v1alpha1 only."""

from __future__ import annotations

from ..openapi import enum, free_form, integer, obj, string
from .common import BACKEND_FRAMEWORKS, CONDITIONS
from .crd import CRD, Version


def crd() -> CRD:
    checkpoint_spec = obj(
        {
            "identity": free_form(
                "What the checkpoint captures (model, backend, parallelism).",
                model=string(),
                backendFramework=enum(BACKEND_FRAMEWORKS),
                tensorParallelSize=integer(minimum=1),
                pipelineParallelSize=integer(minimum=1),
                dtype=string(),
                maxModelLen=integer(minimum=1),
            ),
            "job": obj(
                {
                    "podTemplateSpec": free_form("Pod template of the checkpoint job (core/v1)."),
                    "activeDeadlineSeconds": integer(minimum=1, format="int64"),
                    "backoffLimit": integer("Deprecated and ignored.", minimum=0, format="int32"),
                    "targetContainerName": string("Container to checkpoint; default main."),
                },
                required=["podTemplateSpec"],
            ),
        },
        required=["identity", "job"],
    )
    checkpoint_status = obj(
        {
            "phase": enum(["Pending", "Creating", "Ready", "Failed"]),
            "checkpointID": string(),
            "identityHash": string("Deprecated alias of checkpointID."),
            "jobName": string(),
            "createdAt": string(format="date-time"),
            "message": string(),
            "conditions": CONDITIONS,
        }
    )
    return CRD("DynamoCheckpoint", "dynamocheckpoints", ["dckpt"], [
        Version("v1alpha1", checkpoint_spec, checkpoint_status, storage=True, columns=[
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Job", "type": "string", "jsonPath": ".status.jobName"},
        ]),
    ])
