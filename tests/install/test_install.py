"""Every overlay installs into a real API server, and its objects land where they should."""

import base64

import pytest
import yaml

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.kube_api import DEPLOYMENT, PERSISTENT_VOLUME_CLAIM
from dynamo_harness.paths import OVERLAYS, overlay_names

DYNAMO_CRDS = {
    "dynamographdeployments.nvidia.com", "dynamocomponentdeployments.nvidia.com",
    "dynamographdeploymentrequests.nvidia.com", "dynamomodels.nvidia.com",
    "dynamographdeploymentscalingadapters.nvidia.com", "dynamocheckpoints.nvidia.com",
    "dynamoworkermetadatas.nvidia.com",
}


def storage_class(overlay):
    """The StorageClass the overlay names, else the local cluster's default one."""
    values = yaml.safe_load((OVERLAYS / f"{overlay}.yaml").read_text()) or {}
    return values.get("global", {}).get("storageClass") or "standard"


def pools_of(kubectl, pods):
    nodes = {n["metadata"]["name"]: n["metadata"]["labels"]["dynamo-platform.test/pool"] for n in kubectl.items("nodes")}
    return {p["metadata"]["name"]: nodes.get(p["spec"].get("nodeName")) for p in pods}


def test_platform_crds_are_established(kubectl, platform):
    crds = {c["metadata"]["name"]: c for c in kubectl.items("crds", "-l", "app.kubernetes.io/part-of=dynamo-platform")}
    assert DYNAMO_CRDS <= set(crds)
    for name in DYNAMO_CRDS:
        conditions = {c["type"]: c["status"] for c in crds[name]["status"]["conditions"]}
        assert conditions["Established"] == "True", name
        assert conditions["NamesAccepted"] == "True", name


@pytest.mark.parametrize("overlay", overlay_names())
def test_overlay_installs_and_every_workload_becomes_ready(install, kubectl, overlay):
    release = install(overlay)
    assert {w["metadata"]["name"] for w in release.workloads()} >= {"dynamo-platform-dynamo-operator"}
    assert release.not_rolled_out() == []
    pods = release.pods()
    assert pods and all(p["status"]["phase"] == "Running" for p in pods)
    # Platform pods tolerate no GPU taint, so they stay off GPU pools (spot pools only on AKS).
    allowed = {"system", "aks-spot"} if overlay == "aks-spot" else {"system"}
    assert set(pools_of(kubectl, pods).values()) <= allowed
    claims = release.objects(PERSISTENT_VOLUME_CLAIM)
    assert all(c["status"]["phase"] == "Bound" for c in claims)
    assert {c["spec"]["storageClassName"] for c in claims} <= {storage_class(overlay)}


def test_spot_pinned_platform_runs_on_spot_nodes_only_when_tolerated(install, kubectl):
    # aks-spot keeps etcd, NATS and the operator off spot (required affinity): cleared here, so the
    # overlay's spot toleration is what lets them run on the spot pool.
    spot_only = {"global.nodeSelector": {"kubernetes.azure.com/scalesetpriority": "spot"},
                 **{f"{component}.affinity": {} for component in ("etcd", "nats", "dynamo-operator.controllerManager")}}
    tolerated = install("aks-spot", spot_only)
    assert set(pools_of(kubectl, tolerated.pods()).values()) == {"aks-spot"}

    # etcd and NATS on (kind leaves them off), so three pods are refused.
    untolerated = install("kind", {**spot_only, **ETCD_AND_NATS}, wait=False)

    def operator_refused():
        events = kubectl.items("events", "-n", untolerated.namespace, "--field-selector", "reason=FailedScheduling")
        return [e["message"] for e in events
                if e["involvedObject"]["name"].startswith("dynamo-platform-dynamo-operator") and "untolerated taint" in e["message"]]

    messages = kubectl.wait_for(operator_refused, "the scheduler to refuse the operator pod", timeout=60)
    # How many nodes the selector rules out depends on the provider's pools, so no count.
    assert "didn't match Pod's node affinity/selector" in messages[0]
    pods = untolerated.pods()
    assert len(pods) == 3 and all(not p["spec"].get("nodeName") for p in pods)


GPU_POOLS = {"gpu", "eks-efa", "gke-l4"}


@pytest.mark.parametrize(("overlay", "pools"), [("kind", GPU_POOLS), ("aks-spot", GPU_POOLS | {"aks-spot"})])
def test_snapshot_agent_runs_on_every_gpu_node_and_nowhere_else(cluster, install, kubectl, overlay, pools):
    if cluster.name == "kind":
        pytest.skip("kind here: its local-path storage cannot bind the agents' ReadWriteMany claim, and the GPU "
                    "nodes (the only ones the agent selects) are simulated")
    release = install(overlay, {"snapshot.enabled": True, "dynamo-operator.checkpoint.enabled": True})
    agents = [p for p in release.pods() if p["metadata"]["labels"]["app.kubernetes.io/component"] == "snapshot-agent"]
    placed = pools_of(kubectl, agents)
    gpu_nodes = [n for n in kubectl.items("nodes") if n["metadata"]["labels"].get("nvidia.com/gpu.present") == "true"
                 and n["metadata"]["labels"]["dynamo-platform.test/pool"] in pools]
    assert len(agents) == len(gpu_nodes)
    assert set(placed.values()) == pools
    claims = {c["metadata"]["name"]: c["status"]["phase"] for c in release.objects(PERSISTENT_VOLUME_CLAIM)}
    assert claims["snapshot-pvc"] == "Bound"


def test_bundled_grove_and_kai_install_with_their_crds_and_default_queues(install, kubectl):
    release = install(values={"global.grove.install": True, "global.kai-scheduler.install": True})
    ready = {d["metadata"]["name"]: d["status"].get("readyReplicas") for d in release.objects(DEPLOYMENT)}
    for name in ("grove-operator", "kai-scheduler", "kai-binder", "kai-podgrouper"):
        assert ready[f"dynamo-platform-{name}"] == 1
    crds = {c["metadata"]["name"] for c in kubectl.items("crds")}
    assert {"podcliquesets.grove.io", "queues.scheduling.run.ai", "podgroups.scheduling.run.ai"} <= crds
    queues = {q["metadata"]["name"]: q["spec"] for q in kubectl.items("queues.scheduling.run.ai")}
    assert queues["dynamo"]["parentQueue"] == "dynamo-parent"


def test_release_secret_is_far_below_helms_1mib_limit(kubectl, platform):
    """What etcd holds for the release (Grove's full CRDs included) measured, not estimated."""
    secrets = kubectl.items("secrets", "-n", platform.namespace, "-l", f"owner=helm,name={platform.name}")
    newest = max(secrets, key=lambda s: int(s["metadata"]["labels"]["version"]))
    size = len(base64.b64decode(newest["data"]["release"]))
    assert size < 512 * 1024, f"release Secret holds {size} bytes"
