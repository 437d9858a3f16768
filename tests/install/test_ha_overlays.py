"""Each production overlay (aks-spot, eks-efa, gke) installed for real on the multi-node kind
cluster, under values/local/kind-images.yaml (local images, the operator on the simulated pool;
every HA setting is the cloud overlay's own): etcd and NATS form their 3-member clusters, every
replicated component keeps a replica through one node's loss, the PDBs hold, `helm test` passes,
the Dynamo frontend and mocker workers serve from distinct worker nodes and pass the conformance
probes, and node faults under load (inference, acknowledged writes) lose nothing acknowledged.

Real: the kind nodes, etcd, NATS, the pod network, the `helm test` pods, the Dynamo 1.6.1 frontend
and mockers. Simulated: the operator (kwok; no operator image can be built here), so `helm test`
leaves out its probe, its spread is over kwok nodes, and the frontend and workers are wired here
as it would wire them (dataplane/in_cluster.py). Figures go to reports/ha.md. Skips on every provider
but kind.
"""

from __future__ import annotations

import time

import pytest

from dynamo_harness.clusters.dockerd import Dockerd
from dynamo_harness.conformance import faults, suite
from dynamo_harness.ha import node_faults, report, serving
from dynamo_harness.ha.shape import HaRelease
from dynamo_harness.helm_release import NO_STORAGE_MIGRATION, Release

CLOUD_OVERLAYS = ["aks-spot", "eks-efa", "gke"]
KIND_OVERLAY = "local/kind-images"
OPERATOR_PROBE = "dynamo-platform-test-operator"  # the operator is simulated: nothing answers it
REPLICAS = {"etcd": 3, "nats": 3}
# `helm install --wait` returns once each NATS server has met a JetStream meta leader; the last
# servers join the leader's group within seconds after (10 s on kind).
FORMING_S = 30


@pytest.fixture(scope="module", params=CLOUD_OVERLAYS)
def ha(request: pytest.FixtureRequest, cluster):
    """(overlay, its release, HaRelease) installed once per overlay, with global.etcd/nats.install as
    the overlay sets them."""
    if cluster.name != "kind":
        pytest.skip(f"the HA overlays need the multi-node kind cluster (--cluster=kind), not {cluster.name}")
    kubectl = request.getfixturevalue("kubectl")
    request.getfixturevalue("platform")  # the session release owns the CRDs
    request.getfixturevalue("conversion_standin")
    namespace = f"ha-{request.param}"
    # An earlier run's namespace of that name may still be terminating: nothing can be created in it.
    kubectl.run("wait", "--for=delete", f"namespace/{namespace}", "--timeout=180s", timeout=200)
    release = Release(kubectl, "dynamo-platform", namespace, {"dynamo-operator.crds.enabled": False, **NO_STORAGE_MIGRATION})
    started = time.monotonic()
    release.install([request.param, KIND_OVERLAY], wait=True, timeout=300)
    report.record(request.param, "shape", {report.INSTALL_KEY: round(time.monotonic() - started, 1)})
    yield request.param, release, HaRelease(kubectl, namespace)
    release.uninstall(wait=False)
    kubectl.run("delete", "namespace", namespace, "--wait=false")


def test_etcd_forms_a_three_member_cluster_that_each_member_lists_alike(ha):
    overlay, _, plane = ha
    assert plane.etcd_problems(REPLICAS["etcd"]) == []
    report.record(overlay, "shape", {"etcd members seen from each member": plane.etcd_members_seen()})


def test_nats_routes_are_up_and_a_jetstream_r3_stream_has_a_leader_and_two_current_followers(ha):
    overlay, _, plane = ha
    assert node_faults.settled(lambda: plane.nats_problems(REPLICAS["nats"]), FORMING_S) == []
    assert plane.stream_problems(node_faults.STREAM, REPLICAS["nats"]) == []
    report.record(overlay, "shape", {"NATS routes": plane.nats_routes(),
                                     "R3 stream": plane.stream_replicas(node_faults.STREAM, REPLICAS["nats"])})


def test_every_replicated_component_keeps_a_replica_through_one_node_loss__operator_on_kwok(ha):
    overlay, _, plane = ha
    placement = plane.placement()
    assert {c: len(pods) for c, pods in placement.items() if c in ("etcd", "nats", "manager")} == {
        "etcd": 3, "nats": 3, "manager": 2}
    assert plane.spread_problems() == []
    assert plane.simulated_components() == ["manager"]  # only the operator is simulated
    report.record(overlay, "shape", {"placement (pod: node)": placement})


def test_pdbs_allow_exactly_the_disruptions_each_quorum_survives(ha):
    _, _, plane = ha
    assert plane.pdb_problems({**REPLICAS, "manager": 2}) == []


def test_helm_test_passes__operator_probe_left_out(ha):
    _, release, _ = ha
    out = release.test(timeout=180, leave_out=[OPERATOR_PROBE])
    for probe in ("etcd", "nats"):
        assert f"{probe} ok" in out  # the probe container's own log line: it ran
    assert "Phase:          Failed" not in out


FAULTS = ["drain", "spot_eviction", "hard_loss", "partition", "etcd_leader", "nats_leader", "two_of_three"]


@pytest.fixture(scope="module")
def serving_plane(ha, cluster):
    """The frontend and mocker workers in the overlay's release namespace, one replica per worker node."""
    _, _, release_view = ha
    cluster.load_images(["dynamo"])
    plane = serving.serving_plane(release_view)
    plane.up(timeout=420)
    yield plane
    plane.down()


@pytest.mark.under_load
def test_frontend_and_mockers_serve_from_distinct_real_worker_nodes(ha, serving_plane):
    overlay, _, _ = ha
    results = serving_plane.placement_results()
    assert all(r.ok for r in results), [r.reason for r in results]
    nodes = {c: sorted(p["spec"]["nodeName"] for p in serving_plane.pods(c)) for c in ("frontend", "worker")}
    assert {c: len(set(n)) for c, n in nodes.items()} == {"frontend": serving.FRONTENDS, "worker": serving.WORKERS}
    report.record(overlay, "serving", {"wiring": serving_plane.wiring.describe(), "frontend nodes": nodes["frontend"],
                                       "worker nodes": nodes["worker"]})


@pytest.mark.under_load
def test_conformance_probes_pass_against_the_serving_plane(ha, serving_plane, cluster):
    """The probes `make up` runs, faults included (one repetition each: the node faults below
    repeat the load), against the frontend on kind; the operator probes have no operator to ask."""
    overlay, release, _ = ha
    targets = suite.Targets(**suite.data_plane_targets(serving_plane, restarts=True), kubeconfig=cluster.kubeconfig,
                            platform_namespace=release.namespace)
    results = suite.run(targets, suite.LoadPlan(concurrencies=(1, 4), fault_repetitions=1))
    report.record(overlay, "serving", {"conformance": {r.name: "pass" if r.ok else f"FAIL: {r.reason[:160]}"
                                                       for r in results}})
    assert [r.name for r in results if not r.ok] == [], [r.reason for r in results if not r.ok]
    assert any(r.name.startswith("faults/") for r in results)


@pytest.mark.under_load
def test_worker_node_loss_is_dropped_by_discovery_and_the_frontend_keeps_serving(ha, serving_plane):
    """f. The node of one mocker worker killed under load: requests routed to it fail until
    Kubernetes discovery drops it (its pod goes not Ready with the node), then the frontend serves
    from the other worker through the observation window without a failure, and nothing else
    restarts."""
    overlay, _, _ = ha
    loss = serving.WorkerNodeLoss(serving_plane, Dockerd())
    try:
        result, run = faults.watch(loss.fault, serving_plane.frontend_url, serving_plane.model, serving_plane,
                                   repetitions=1, max_seconds=serving.WORKER_NODE_LOSS_MAX_S)
    finally:
        loss.repair()
    figures = run.figures() if run else {}
    failed_after = [s.ended - loss.killed_at for s in (run.samples if run else []) if not s.ok and s.ended >= loss.killed_at]
    report.record(overlay, "serving", {"f. worker node loss": {
        "node": loss.node, "worker": loss.pod, "verdict": "pass" if result.ok else f"FAIL: {result.reason[:300]}",
        "requests": figures.get("requests"), "failed": figures.get("errors"),
        "dropped from discovery (s after the kill)": round(loss.dropped_at - loss.killed_at, 1) if loss.dropped_at else None,
        "last failed request (s after the kill)": round(max(failed_after), 1) if failed_after else None,
        "serving steadily from (s after the kill)": (figures.get("recovery_s") or [None])[0]}})
    assert result.ok, result.reason


@pytest.mark.under_load
def test_node_faults_lose_no_acknowledged_write(ha, serving_plane):
    """Issue 21 item 4 a-e under load (inference through the frontend, etcd puts, JetStream
    publishes): each fault, then repaired; every run reports its figures, and the test fails on any
    acknowledged write lost, a request unaccounted for, a broken quorum that no write noticed, or a
    release or frontend that did not heal."""
    overlay, _, plane = ha
    injector = node_faults.NodeFaults(plane, Dockerd(), REPLICAS)
    urls = plane.urls()
    results = []
    for name in FAULTS:
        make = (lambda: injector.leader_loss(name.split("_")[0])) if name.endswith("_leader") else getattr(injector, name)
        results.append(node_faults.run(plane, make(), urls, serving_plane))
        report.record(overlay, "faults", results)
    failures = [f"{r['fault']}: {'; '.join(r['problems'])}" for r in results if not r["ok"]]
    assert not failures, "\n".join(failures)

