"""Each production overlay (aks-spot, eks-efa, gke) installed for real on the multi-node kind
cluster, under values/local/kind-images.yaml (local images, the operator on the simulated pool;
every HA setting is the cloud overlay's own): etcd and NATS form their 3-member clusters, every
replicated component keeps a replica through one node's loss, the PDBs hold, `helm test` passes,
and node faults under an acknowledged-write load lose nothing acknowledged.

Real: the kind nodes, etcd, NATS, the pod network, the `helm test` pods. Simulated: the operator
(kwok; no operator image can be built here), so `helm test` leaves out its probe and its spread is
over kwok nodes. Figures go to reports/ha.md. Skips on every provider but kind.
"""

from __future__ import annotations

import pytest

from dynamo_harness.clusters.dockerd import Dockerd
from dynamo_harness.ha import node_faults, report
from dynamo_harness.ha.shape import HaRelease
from dynamo_harness.helm_release import NO_STORAGE_MIGRATION, Release

CLOUD_OVERLAYS = ["aks-spot", "eks-efa", "gke"]
KIND_OVERLAY = "local/kind-images"
OPERATOR_PROBE = "dynamo-platform-test-operator"  # the operator is simulated: nothing answers it
REPLICAS = {"etcd": 3, "nats": 3}


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
    release.install([request.param, KIND_OVERLAY], wait=True, timeout=300)
    yield request.param, release, HaRelease(kubectl, namespace)
    release.uninstall(wait=False)
    kubectl.run("delete", "namespace", namespace, "--wait=false")


def test_etcd_forms_a_three_member_cluster_that_each_member_lists_alike(ha):
    overlay, _, plane = ha
    assert plane.etcd_problems(REPLICAS["etcd"]) == []
    report.record(overlay, "shape", {"etcd members seen from each member": plane.etcd_members_seen()})


def test_nats_routes_are_up_and_a_jetstream_r3_stream_has_a_leader_and_two_current_followers(ha):
    overlay, _, plane = ha
    assert plane.nats_problems(REPLICAS["nats"]) == []
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


def test_node_faults_lose_no_acknowledged_write(ha):
    """Issue 21 item 4 a-e (f needs a frontend on kind): each fault under load, then repaired;
    every run reports its figures, and the test fails on any acknowledged write lost, on a broken
    quorum that no write noticed, or on a release that did not heal."""
    overlay, _, plane = ha
    faults = node_faults.NodeFaults(plane, Dockerd(), REPLICAS)
    urls = plane.urls()
    results = []
    for name in FAULTS:
        make = (lambda: faults.leader_loss(name.split("_")[0])) if name.endswith("_leader") else getattr(faults, name)
        results.append(node_faults.run(plane, make(), urls))
        report.record(overlay, "faults", results)
    failures = [f"{r['fault']}: {'; '.join(r['problems'])}" for r in results if not r["ok"]]
    assert not failures, "\n".join(failures)

