"""The API server accepts the chart's monitoring and gateway objects under the real CRD schemas of
the projects that own them (prometheus-operator, Gateway API, Gateway API Inference Extension),
taken from their pinned Go modules (hack/tools/crds), by server-side dry run."""

from collections.abc import Iterator

import pytest
import yaml

from dynamo_harness.helm import Helm
from dynamo_harness.kube import Kubectl, KubectlError
from dynamo_harness.paths import CRD_SCHEMAS

CRD_FILES = {
    "github.com/prometheus-operator/prometheus-operator": [
        "monitoring.coreos.com_podmonitors.yaml", "monitoring.coreos.com_servicemonitors.yaml",
        "monitoring.coreos.com_prometheusrules.yaml"],
    "sigs.k8s.io/gateway-api": ["gateway.networking.k8s.io_httproutes.yaml"],
    "sigs.k8s.io/gateway-api-inference-extension": ["inference.networking.k8s.io_inferencepools.yaml"],
}
APIS = ["monitoring.coreos.com/v1", "gateway.networking.k8s.io/v1", "inference.networking.k8s.io/v1"]
VALUES = {"global.monitoring.enabled": True, "inference-gateway.enabled": True,
          "inference-gateway.pool.dynamoGraphDeployment": "vllm-agg", "inference-gateway.route.gateway.name": "inference-gateway"}
GROUPS = ("monitoring.coreos.com/", "gateway.networking.k8s.io/", "inference.networking.k8s.io/")


@pytest.fixture(scope="module")
def owned_crds(kubectl: Kubectl) -> Iterator[list[str]]:
    """Installs the CRDs this module validates against and removes them afterwards (they are
    cluster-scoped and would otherwise change what later renders find in .Capabilities)."""
    paths = [CRD_SCHEMAS / module / name for module, names in CRD_FILES.items() for name in names]
    if missing := [str(p) for p in paths if not p.exists()]:
        pytest.fail(f"missing {missing}: hack/bootstrap.sh copies them from the pinned modules")
    created = [yaml.safe_load(p.read_text())["metadata"]["name"] for p in paths]
    already = {c for c in created if kubectl.run("get", "crd", c, "--ignore-not-found", "-o", "name").strip()}
    for path in paths:
        # Server-side apply: these CRDs exceed the client-side last-applied annotation limit.
        kubectl.run("apply", "--server-side", "-f", str(path))
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{c}" for c in created])
    yield created
    for name in set(created) - already:
        kubectl.run("delete", "crd", name, "--wait=false")


def dry_run(kubectl: Kubectl, namespace: str, obj: dict) -> str:
    return kubectl.run("apply", "--dry-run=server", "-n", namespace, "-f", "-", input=yaml.safe_dump(obj))


@pytest.fixture
def rendered(owned_crds, schema_only_namespace) -> list[dict]:
    """The chart's objects of those APIs, rendered for the namespace they are tried in."""
    manifests = Helm().template(values=VALUES, api_versions=APIS, namespace=schema_only_namespace)
    return [o for o in manifests if o["apiVersion"].startswith(GROUPS)]


def test_every_monitoring_and_gateway_object_is_accepted_under_its_projects_crd(kubectl, schema_only_namespace, rendered):
    assert sorted({o["kind"] for o in rendered}) == ["HTTPRoute", "InferencePool", "PodMonitor", "PrometheusRule", "ServiceMonitor"]
    for obj in rendered:
        assert "(server dry run)" in dry_run(kubectl, schema_only_namespace, obj)


@pytest.mark.parametrize(
    ("kind", "path", "value", "message"),
    [
        ("PodMonitor", ("spec", "podMetricsEndpoints", 0, "scheme"), "ftp", 'Unsupported value: "ftp"'),
        ("InferencePool", ("spec", "endpointPickerRef", "failureMode"), "Sometimes", 'Unsupported value: "Sometimes"'),
        ("HTTPRoute", ("spec", "rules", 0, "matches", 0, "path", "type"), "Glob", 'Unsupported value: "Glob"'),
    ],
    ids=["podmonitor-scheme", "pool-failure-mode", "route-path-type"],
)
def test_the_crd_schemas_reject_a_malformed_object(kubectl, schema_only_namespace, rendered, kind, path, value, message):
    """Proves the dry run above validates: the same objects, broken in one field, are refused."""
    obj = next(o for o in rendered if o["kind"] == kind)
    node = obj
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(KubectlError) as rejected:
        dry_run(kubectl, schema_only_namespace, obj)
    assert message in rejected.value.stderr
