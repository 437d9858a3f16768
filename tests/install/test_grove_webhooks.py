"""Grove's admission webhooks on a real API server. No Grove process runs on the local cluster
(its operator pod is simulated), so these tests prove the wiring only: the API server sends
PodCliqueSet writes to the grove-operator Service, and leaves alone the namespaces the harness's
skip rule labels, where the CRD schema alone answers."""

import pytest
import yaml

from dynamo_harness.kube import KubectlError
from dynamo_harness.helm_release import SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES


def podcliqueset(namespace: str) -> dict:
    clique = {"name": "worker", "spec": {"roleName": "worker", "replicas": 1,
                                          "podSpec": {"containers": [{"name": "main", "image": "busybox"}]}}}
    return {"apiVersion": "grove.io/v1alpha1", "kind": "PodCliqueSet",
            "metadata": {"name": "webhook-wiring", "namespace": namespace},
            "spec": {"replicas": 1, "template": {"cliques": [clique]}}}


def dry_run_create(kubectl, obj: dict) -> str:
    return kubectl.run("create", "--dry-run=server", "-o", "name", "-f", "-", input=yaml.safe_dump(obj))


def test_grove_webhooks_see_podcliqueset_writes_except_in_labelled_namespaces(install, kubectl, schema_only_namespace):
    grove = install(values={"global.grove.install": True, **SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES})
    for kind, name in (("mutatingwebhookconfiguration", "podcliqueset-defaulting-webhook"),
                       ("validatingwebhookconfiguration", "podcliqueset-validating-webhook")):
        (webhook,) = kubectl.get(kind, name)["webhooks"]
        assert webhook["clientConfig"]["service"]["name"] == "grove-operator"
        assert webhook["clientConfig"]["service"]["namespace"] == grove.namespace

    with pytest.raises(KubectlError) as refused:
        dry_run_create(kubectl, podcliqueset(grove.namespace))
    # The defaulting webhook is called first; nothing answers it here.
    assert 'failed calling webhook "pcs.defaulting.webhooks.grove.io"' in refused.value.stderr
    assert f"grove-operator.{grove.namespace}.svc" in refused.value.stderr

    # Where the skip label is set, only the CRD schema answers: a valid object passes, a broken one
    # is refused naming its field.
    assert dry_run_create(kubectl, podcliqueset(schema_only_namespace)).strip() == "podcliqueset.grove.io/webhook-wiring"
    broken = podcliqueset(schema_only_namespace)
    del broken["spec"]["template"]["cliques"][0]["spec"]["roleName"]
    with pytest.raises(KubectlError) as schema_error:
        dry_run_create(kubectl, broken)
    assert "roleName" in schema_error.value.stderr
