"""DynamoWorkerMetadata (dwm): the endpoints and model cards a worker registers when Dynamo discovers
through Kubernetes instead of etcd. Upstream defines it in its Helm chart's CRD
(nvidia.com_dynamoworkermetadatas.yaml), which its Go type mirrors: a free-form data blob."""

from __future__ import annotations

from ..openapi import free_form, obj
from .crd import CRD, Version


def crd() -> CRD:
    return CRD("DynamoWorkerMetadata", "dynamoworkermetadatas", ["dwm"], [
        Version("v1alpha1", obj({"data": free_form("Endpoints and model cards a worker registered.")}), obj(),
                storage=True),
    ])
