"""The chart's `helm test` probe scripts, run for real against the embedded data plane.

The pods' scripts are taken from the rendered chart and run with this machine's sh and curl,
with the in-cluster service addresses pointed at the local components. The operator probe
needs an operator process, which does not run here; its script is checked for shape only.
"""

import subprocess

import pytest

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.manifests import by_kind

NAMESPACE_SUFFIX = ".dynamo-system.svc.cluster.local"


@pytest.fixture(scope="module")
def scripts(render):
    # The embedded data plane runs etcd and NATS, so their probes are rendered too (off by default).
    values = {**ETCD_AND_NATS, "tests.inference.endpoint": "http://frontend:8000", "tests.inference.model": "tiny"}
    pods = by_kind(render(values=values), "Pod")
    return {p["metadata"]["labels"]["app.kubernetes.io/component"]: p["spec"]["containers"][0]["command"] for p in pods}


def localize(command, plane):
    script = command[-1]
    replacements = {
        f"http://dynamo-platform-etcd{NAMESPACE_SUFFIX}:2381": plane.etcd_url,
        f"http://dynamo-platform-nats{NAMESPACE_SUFFIX}:8222": plane.nats_monitor_url,
        "http://frontend:8000": plane.frontend_url,
    }
    for cluster_url, local_url in replacements.items():
        script = script.replace(cluster_url, local_url)
    return [*command[:-1], script]


def run(command):
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def test_every_component_has_a_helm_test_pod(scripts):
    assert set(scripts) == {"test-etcd", "test-nats", "test-operator", "test-inference"}
    # The health port only: the operator serves /metrics over HTTPS to authorized tokens (server.metrics.secure).
    assert "/healthz" in scripts["test-operator"][-1] and "/readyz" in scripts["test-operator"][-1]
    assert "/metrics" not in scripts["test-operator"][-1]


@pytest.mark.parametrize("probe", ["test-etcd", "test-nats", "test-inference"])
def test_helm_test_script_passes_against_the_real_component(scripts, plane, probe):
    result = run(localize(scripts[probe], plane))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(f"{probe.removeprefix('test-')} ok")


def test_helm_test_script_fails_when_its_component_is_down(scripts, healed):
    healed.kill("nats")
    result = run(localize(scripts["test-nats"], healed))
    assert result.returncode != 0
    assert "nats ok" not in result.stdout
