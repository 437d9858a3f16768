"""The API server validates Dynamo objects against the installed CRDs (server-side dry run)."""

import copy
import json

import pytest
import yaml

from dynamo_harness.kube import KubectlError
from dynamo_harness.paths import EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def dry_run(kubectl, namespace, obj):
    return kubectl.run("apply", "--dry-run=server", "-n", namespace, "-f", "-", input=yaml.safe_dump(obj))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_documented_example_is_accepted_by_the_api_server(kubectl, schema_only_namespace, path):
    out = dry_run(kubectl, schema_only_namespace, yaml.safe_load(path.read_text()))
    assert "created (server dry run)" in out


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("replicas", "two", 'spec.services.VllmDecodeWorker.replicas: Invalid value: "string": spec.services.VllmDecodeWorker.replicas in body must be of type integer'),
        ("replicas", -1, "spec.services.VllmDecodeWorker.replicas in body should be greater than or equal to 0"),
        ("componentType", "gpu-worker", 'spec.services.VllmDecodeWorker.componentType: Unsupported value: "gpu-worker"'),
        ("multinode", {"nodeCount": 0}, "spec.services.VllmDecodeWorker.multinode.nodeCount in body should be greater than or equal to 1"),
        ("replica", 1, 'unknown field "spec.services.VllmDecodeWorker.replica"'),
    ],
)
def test_malformed_dgd_is_rejected_with_the_api_servers_message(kubectl, schema_only_namespace, field, value, message):
    dgd = copy.deepcopy(yaml.safe_load((EXAMPLES / "vllm-agg.yaml").read_text()))
    dgd["spec"]["services"]["VllmDecodeWorker"][field] = value
    with pytest.raises(KubectlError) as rejected:
        dry_run(kubectl, schema_only_namespace, dgd)
    assert message in rejected.value.stderr


def test_scaling_adapter_scale_subresource_is_served(kubectl, schema_only_namespace):
    adapter = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeploymentScalingAdapter",
               "metadata": {"name": "decode"}, "spec": {"dgdRef": {"name": "vllm-agg", "serviceName": "decode"}, "replicas": 2}}
    kubectl.run("apply", "-n", schema_only_namespace, "-f", "-", input=yaml.safe_dump(adapter))
    path = f"/apis/nvidia.com/v1alpha1/namespaces/{schema_only_namespace}/dynamographdeploymentscalingadapters/decode/scale"
    scale = json.loads(kubectl.run("get", "--raw", path))
    assert scale["spec"]["replicas"] == 2


def test_api_server_calls_the_registered_webhooks(cluster, kubectl, platform, conversion_standin):
    """Where kwok simulates the operator (local, kind here), no operator process runs (the
    conversion stand-in answers /convert only), so the admission call fails; its error names the
    webhook and path, which proves it is live."""
    if not cluster.simulates_operator:
        pytest.skip(f"checks the refused call where the operator is simulated; {cluster.name} runs the operator")
    with pytest.raises(KubectlError) as rejected:
        dry_run(kubectl, platform.namespace, yaml.safe_load((EXAMPLES / "vllm-agg.yaml").read_text()))
    assert 'failed calling webhook "mutate-dynamographdeployment.nvidia.com"' in rejected.value.stderr
    assert "/mutate-nvidia-com-v1alpha1-dynamographdeployment" in conversion_standin.refused


def test_webhook_admits_a_valid_dgd(cluster, kubectl, platform):
    if cluster.simulates_operator:
        pytest.skip(f"{cluster.name} runs no operator process (kwok simulates its pods: no operator image can be "
                    "built here), so nothing serves the webhook; run with --cluster=existing for the call-through")
    out = dry_run(kubectl, platform.namespace, yaml.safe_load((EXAMPLES / "vllm-agg.yaml").read_text()))
    assert "created (server dry run)" in out
