"""The platform's etcd and NATS running for real on the local cluster's real node
(values/local/real-node.yaml, with both turned on: the chart's defaults leave them off): data
written to them survives an upgrade from the previous release, an uninstall + reinstall and a pod
kill, and `helm test` runs the chart's real probe pods. The Dynamo frontend and mocker pods serve
wired as the installed operator wires workloads: Kubernetes discovery with the defaults, etcd and
NATS where the release says so. Their pods killed under load are `make up`'s own fault probes,
checked in tests/up.

The operator stays on the kwok pools in every test here (no operator image can be built on this
machine), so `helm test` leaves out the operator probe. Skips, with the reason, when the local
cluster runs kwok-only.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from dynamo_harness.ha.shape import HaRelease
from dynamo_harness.helm import ETCD_AND_NATS, HelmError, values_args
from dynamo_harness.kube import condition
from dynamo_harness.paths import CHART, OVERLAYS, ROOT, TOOLS_BIN

from support.release_data import DataPlane, assert_both_read_back, assert_on_real_node, wait_statefulsets_ready, write_both

OVERLAY = "local/real-node"
PREVIOUS_CHART = ROOT / "tests" / "data" / "dynamo-platform-0.1.0.tgz"
# The operator runs on kwok (simulated): its probe cannot reach it, so helm test leaves it out.
OPERATOR_PROBE = "dynamo-platform-test-operator"
AUTH_AND_TLS = {**ETCD_AND_NATS, "global.etcd.auth.enabled": True, "global.etcd.tls.enabled": True,
                "global.nats.auth.enabled": True, "global.nats.tls.enabled": True}


# Every test here needs the real node (skips, naming why, without it).
pytestmark = pytest.mark.usefixtures("node_cluster")


def previous_release_values() -> dict:
    """The local overlay as the previous chart accepts it: its schema has no tests.* placement."""
    overlay = yaml.safe_load((OVERLAYS / f"{OVERLAY}.yaml").read_text())
    return {key: overlay[key] for key in ("etcd", "nats")}


def test_data_survives_upgrade_from_the_previous_release_and_a_reinstall__operator_on_kwok(install, kubectl):
    release = install(chart=PREVIOUS_CHART, values=previous_release_values())
    data = DataPlane(kubectl, release.namespace)
    assert_on_real_node(kubectl, release.namespace)
    written = write_both(data)

    release.upgrade(overlay=OVERLAY, values=ETCD_AND_NATS)
    wait_statefulsets_ready(kubectl, release.namespace)
    assert_both_read_back(data, written)

    release.uninstall()
    release.helm.run("install", release.name, str(CHART), "--namespace", release.namespace, "--wait",
                     "--timeout", "120s", *values_args(OVERLAY, {**release.base_values, **ETCD_AND_NATS}))
    assert_on_real_node(kubectl, release.namespace)
    assert_both_read_back(data, written)


def test_killed_etcd_and_nats_pods_come_back_with_their_data__operator_on_kwok(install, kubectl):
    release = install(OVERLAY, ETCD_AND_NATS)
    data = DataPlane(kubectl, release.namespace)
    written = write_both(data)
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in release.pods()}
    kubectl.run("delete", "pod", "-n", release.namespace, "dynamo-platform-etcd-0", "dynamo-platform-nats-0",
                "--grace-period=0", "--force", "--wait=false")

    def replaced():
        pods = {p["metadata"]["name"]: p for p in kubectl.items("pods", "-n", release.namespace)}
        return all(name in pods and pods[name]["metadata"]["uid"] != before[name]
                   and condition(pods[name], "Ready").get("status") == "True"
                   for name in ("dynamo-platform-etcd-0", "dynamo-platform-nats-0"))

    kubectl.wait_for(replaced, "etcd and NATS pods replaced and Ready", 120)
    assert_on_real_node(kubectl, release.namespace)
    assert_both_read_back(data, written)
    # What the kind HA checks see, through the API client: etcdctl exec'd in the member, NATS's
    # monitoring port through the pod proxy.
    members = HaRelease(kubectl, release.namespace)
    assert members.etcd_problems(1) == []
    assert members.nats_monitor("dynamo-platform-nats-0", "varz")["server_name"] == "dynamo-platform-nats-0"


def helm_test(release) -> str:
    return release.test(timeout=90, leave_out=[OPERATOR_PROBE])


def test_helm_test_runs_the_real_probe_pods_and_fails_naming_nats_when_it_is_down__operator_on_kwok(install, kubectl):
    release = install(OVERLAY, ETCD_AND_NATS)
    out = helm_test(release)
    for probe in ("etcd", "nats"):
        assert f"dynamo-platform-test-{probe}" in out
        assert f"{probe} ok" in out  # the probe container's own log line: it ran
    assert "Phase:          Failed" not in out

    kubectl.run("scale", "statefulset", "dynamo-platform-nats", "-n", release.namespace, "--replicas=0")
    kubectl.wait_for(lambda: not [p for p in release.pods() if p["metadata"]["name"] == "dynamo-platform-nats-0"],
                     "NATS pod gone", 60)
    with pytest.raises(HelmError) as failure:
        helm_test(release)
    assert "dynamo-platform-test-nats" in str(failure.value)


def test_install_with_etcd_and_nats_auth_and_tls__operator_on_kwok(install, kubectl):
    release = install(OVERLAY, AUTH_AND_TLS)
    assert_on_real_node(kubectl, release.namespace)
    data = DataPlane(kubectl, release.namespace, tls=True, auth=True)
    assert_both_read_back(data, write_both(data))
    unauthenticated = DataPlane(kubectl, release.namespace, tls=True, auth=False)
    with pytest.raises(Exception, match="(?i)auth|permission|user"):
        unauthenticated.etcdctl("get", "/anything")
    helm_test(release)


def test_ct_install_installs_the_chart_and_passes_helm_test__operator_on_kwok(cluster, platform, kubectl, tmp_path):
    """chart-testing's own install + `helm test` against the local cluster. The operator's probe is
    not rendered (metricsService off): the operator is simulated by kwok, so nothing answers it.
    ct installs a copy of the chart: its `helm dependency build` packs every vendored subchart next
    to itself, which would break the renders of tests running beside this one (make test)."""
    cluster.prepare_install()
    chart = shutil.copytree(CHART, tmp_path / CHART.name)
    extra = (f"--values {OVERLAYS / f'{OVERLAY}.yaml'} --set dynamo-operator.crds.enabled=false"
             " --set global.etcd.install=true --set global.nats.install=true"
             " --set dynamo-operator.metricsService.enabled=false")
    command = [str(TOOLS_BIN / "ct"), "install", "--config", str(ROOT / ".ct.yaml"), "--charts", str(chart),
               "--helm-extra-set-args", extra]
    env = {**os.environ, "KUBECONFIG": str(kubectl.kubeconfig), "PATH": f"{TOOLS_BIN}:{os.environ['PATH']}"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "test-etcd" in result.stdout + result.stderr  # helm test ran the chart's probes


def test_frontend_and_mocker_pods_find_each_other_by_kubernetes_discovery_with_the_defaults__operator_on_kwok(
        install, kubectl, kube_api):
    from dynamo_harness.dataplane.in_cluster import ClusterDataPlane
    from dynamo_harness.conformance import inference

    release = install(OVERLAY)
    plane = ClusterDataPlane(kube_api, namespace=release.namespace)
    try:
        plane.up()
        assert plane.wiring.discovery == "kubernetes" and not plane.wiring.etcd and not plane.wiring.nats
        assert plane.fault_components == ("frontend", "worker")
        assert [r.reason for r in plane.placement_results()] == ["running on local-node"] * 2
        results = inference.functional(plane.frontend_url, "tiny")
        assert results and all(r.ok for r in results), [(r.name, r.reason) for r in results if not r.ok]
        env = {e["name"] for e in plane.pods("worker")[0]["spec"]["containers"][0]["env"]}
        assert "ETCD_ENDPOINTS" not in env and "NATS_SERVER" not in env
        # The worker registered itself the Kubernetes way: a DynamoWorkerMetadata named after its pod.
        (worker,) = plane.pods("worker")
        metadata = kubectl.items("dynamoworkermetadatas.nvidia.com", "-n", release.namespace)
        assert worker["metadata"]["name"] in {m["metadata"]["name"] for m in metadata}, metadata
    finally:
        plane.down()


def test_frontend_and_mocker_pods_use_etcd_discovery_and_nats_events_where_the_release_says_so__operator_on_kwok(
        install, kubectl, kube_api):
    from dynamo_harness.dataplane.in_cluster import ClusterDataPlane
    from dynamo_harness.conformance import inference

    release = install(OVERLAY, {**ETCD_AND_NATS, "dynamo-operator.dynamo.discoveryBackend": "etcd"})
    plane = ClusterDataPlane(kube_api, namespace=release.namespace)
    try:
        plane.up()
        assert (plane.wiring.discovery, plane.wiring.event_plane) == ("etcd", "nats")
        assert plane.fault_components == ("etcd", "nats", "frontend", "worker")
        results = inference.functional(plane.frontend_url, "tiny")
        assert results and all(r.ok for r in results), [(r.name, r.reason) for r in results if not r.ok]
        # The worker found the frontend through the chart's etcd: its instance is registered there.
        assert DataPlane(kubectl, release.namespace).etcdctl("get", "--prefix", "--keys-only", "")
    finally:
        plane.down()
