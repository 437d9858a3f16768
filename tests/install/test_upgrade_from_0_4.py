"""Upgrading a release of this chart's 0.4.0 (tests/data/dynamo-platform-0.4.0.tgz, `make
previous-chart REF=98da738`) to this chart, with the local cluster's real node, as
docs/operations.md ("Upgrading from 0.4.x") describes it.

0.4.0 installs etcd and NATS by default and its OperatorConfiguration gives the operator their
addresses next to Kubernetes discovery; this chart leaves both off. The default upgrade drops them
(their PVCs stay), a DGD written before is kept and the in-cluster data plane, which reads its
wiring from the installed release as the operator does, rolls its pods without the etcd and NATS
addresses and still serves the model. An upgrade that keeps them (`global.etcd.install` and
`global.nats.install` true) keeps their data and the addresses.

The releases here leave the CRDs to the session's platform release (crds.enabled=false: one release
owns them), so the CRD side of a 0.4.x user's one `helm upgrade` is played by two: the 0.4.0 state
is put back on the live CRDs (the storage flag of each kind on the version 0.4.0's CRD files store,
v1alpha1 for DGD and DCD), a DGD and a DCD are written then, and etcd holds them as v1alpha1; after
the 0.4.0 release's upgrade, the CRD owner's upgrade to this chart runs the storage-version
migration hook on the real node (as a 0.4.x release owning its CRDs would; the local harness
otherwise turns the hook off). This chart stores DGD and DCD as v1beta1, as upstream has since
1.5.0: the hook re-writes both objects, etcd then holds them as v1beta1, the CRDs'
status.storedVersions is [v1beta1], and each object keeps its uid and reads back in v1alpha1 as
written and in v1beta1. The operator stays on the kwok pools (no operator image can be built
here); the objects live in a namespace its webhooks skip, and conversion goes through the stand-in
(conversion_standin.py), which sets apiVersion and maps no fields. Skips, naming why, where the
local cluster runs kwok-only.
"""

from __future__ import annotations

import tarfile

import pytest
import yaml

from dynamo_harness.dataplane.in_cluster import ClusterDataPlane, Wiring
from dynamo_harness.conformance import inference
from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.kube import Kubectl
from dynamo_harness.manifests import load_all
from dynamo_harness.paths import ROOT
from dynamo_harness.helm_release import SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES
from dynamo_harness.kube_api import PERSISTENT_VOLUME_CLAIM, SERVICE, STATEFUL_SET, Kind

from support import storage_migration as sm
from support.release_data import DataPlane, assert_both_read_back, assert_on_real_node, wait_statefulsets_ready, write_both

PREVIOUS_CHART = ROOT / "tests" / "data" / "dynamo-platform-0.4.0.tgz"
OVERLAY = "local/real-node"  # 0.4.0 takes the same overlay: its etcd and NATS run on the real node
COMPATIBILITY = ROOT / "docs" / "compatibility.md"
# Every install and upgrade here: the webhooks of the release (nothing answers them on local) skip
# the schema-only namespace the DGD lives in.
WEBHOOKS = SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES
# A DGD and a DCD as a 0.4.x user stored them: v1alpha1 is the version 0.4.0's CRDs store.
DGD = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeployment", "metadata": {"name": "made-on-0-4"},
       "spec": {"services": {"Frontend": {"componentType": "frontend", "replicas": 1}}}}
DCD = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoComponentDeployment", "metadata": {"name": "made-on-0-4-frontend"},
       "spec": {"componentType": "frontend", "serviceName": "Frontend", "replicas": 1}}
PLURALS = {"DynamoGraphDeployment": "dynamographdeployments", "DynamoComponentDeployment": "dynamocomponentdeployments"}
# What the upgrade moves: the kinds whose storage version 0.4.0 and this chart differ in (Dynamo 1.5.0's flip).
MOVED = {"DynamoGraphDeployment": ("v1alpha1", "v1beta1"), "DynamoComponentDeployment": ("v1alpha1", "v1beta1")}

pytestmark = pytest.mark.usefixtures("node_cluster")


@pytest.fixture(scope="module")
def relay(node_cluster, conversion_standin):
    return sm.relay_connections(node_cluster)


def api_versions(crds: list[dict]) -> dict[str, tuple[str, str]]:
    """kind -> (versions served, version stored), as docs/compatibility.md writes them."""
    return {crd["spec"]["names"]["kind"]: (", ".join(v["name"] for v in crd["spec"]["versions"] if v["served"]),
                                           next(v["name"] for v in crd["spec"]["versions"] if v["storage"]))
            for crd in crds}


def previous_crds() -> list[dict]:
    with tarfile.open(PREVIOUS_CHART) as archive:
        return [doc for member in archive.getmembers() if "/charts/dynamo-operator/files/crds/" in member.name
                for doc in load_all(archive.extractfile(member).read().decode())]


def live_crds(kubectl: Kubectl) -> list[dict]:
    return [crd for crd in kubectl.items("crds") if crd["spec"]["group"] == "nvidia.com"]


def documented_api_versions() -> dict[str, tuple[str, str]]:
    """The table "The API per kind (nvidia.com)": kind -> (served, stored)."""
    table = COMPATIBILITY.read_text().split("## The API per kind (nvidia.com)", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:4] for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    return {kind.strip(): (served.strip(), stored.strip()) for kinds, served, stored in rows for kind in kinds.split(",")}


def crd_name(kind: str) -> str:
    return f"{PLURALS[kind]}.nvidia.com"


def identities(release, *kinds: Kind) -> dict[str, str]:
    """'<kind>/<name>' -> uid of the release's objects of those kinds."""
    return {f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["uid"] for o in release.objects(*kinds)}


def addresses(wiring: Wiring) -> tuple[str, str | None, str | None]:
    return wiring.discovery, wiring.etcd, wiring.nats


def running_pods(plane: ClusterDataPlane, component: str) -> list[dict]:
    """The component's pods, without those a rollout is still terminating."""
    pods = [p for p in plane.pods(component) if not p["metadata"].get("deletionTimestamp")]
    assert pods, f"no {component} pod"
    return pods


def main_env(pod: dict) -> dict[str, str | None]:
    return {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}


def test_default_upgrade_from_0_4_re_stores_the_dgd_and_dcd_as_v1beta1_drops_etcd_and_nats_and_rewires_the_data_plane__operator_on_kwok(
        install, kubectl, kube_api, platform, cluster, schema_only_namespace, relay):
    release = install(OVERLAY, WEBHOOKS, chart=PREVIOUS_CHART)
    namespace = release.namespace
    on_0_4 = ClusterDataPlane(kube_api, namespace=namespace)
    try:
        # 0.4.0's CRD state: each kind's storage flag where 0.4.0's files put it; DGD and DCD written then.
        previous = api_versions(previous_crds())
        assert {kind: (previous[kind][1], documented_api_versions()[kind][1]) for kind in previous
                if previous[kind][1] != documented_api_versions()[kind][1]} == MOVED
        for kind, (old, _) in MOVED.items():
            sm.set_storage_version(kubectl, crd_name(kind), old)
        written = {}
        for obj in (DGD, DCD):
            kubectl.run("create", "-n", schema_only_namespace, "-f", "-", input=yaml.safe_dump(obj))
            written[obj["kind"]] = kubectl.get(f"{PLURALS[obj['kind']]}.v1alpha1.nvidia.com", obj["metadata"]["name"],
                                               "-n", schema_only_namespace)
            assert sm.stored_api_version(cluster, PLURALS[obj["kind"]], schema_only_namespace,
                                         obj["metadata"]["name"]) == "nvidia.com/v1alpha1"

        on_0_4.up()
        # What 0.4.0's OperatorConfiguration says: Kubernetes discovery, and the addresses of its own etcd and NATS.
        assert addresses(on_0_4.wiring) == ("kubernetes", f"http://dynamo-platform-etcd.{namespace}.svc.cluster.local:2379",
                                            f"nats://dynamo-platform-nats.{namespace}.svc.cluster.local:4222")
        before = {c: {p["metadata"]["uid"] for p in running_pods(on_0_4, c)} for c in ("frontend", "worker")}
        (worker,) = running_pods(on_0_4, "worker")
        assert {k: main_env(worker).get(k) for k in ("ETCD_ENDPOINTS", "NATS_SERVER")} == {
            "ETCD_ENDPOINTS": on_0_4.wiring.etcd, "NATS_SERVER": on_0_4.wiring.nats}
        claims = identities(release, PERSISTENT_VOLUME_CLAIM)
        assert set(claims) == {"PersistentVolumeClaim/data-dynamo-platform-etcd-0",
                               "PersistentVolumeClaim/data-dynamo-platform-nats-0"}

        release.upgrade(OVERLAY, WEBHOOKS)
        connections = relay()
        platform.upgrade(values=sm.migration_values())  # the CRD owner's upgrade: its hook migrates

        # The CRDs: this chart's versions, as documented; the hook ran and left only v1beta1 stored.
        assert api_versions(live_crds(kubectl)) == documented_api_versions()
        job = sm.migration_job(kubectl, platform)
        assert job["status"].get("succeeded") == 1, job["status"]
        _, logs = sm.job_pod_and_logs(kubectl, job)
        assert relay() > connections, "the Job's kubectl did not reach the API server through the relay"
        for kind, (_, new) in MOVED.items():
            assert (sm.rewrote(logs, crd_name(kind), new) or 0) >= 1, logs
            assert sm.stored_versions(kubectl, crd_name(kind)) == [new], kind

        # The objects: the same ones (uid), re-written (stored as v1beta1 now), readable in both versions.
        for obj in (DGD, DCD):
            kind, name, plural = obj["kind"], obj["metadata"]["name"], PLURALS[obj["kind"]]
            assert sm.stored_api_version(cluster, plural, schema_only_namespace, name) == "nvidia.com/v1beta1", kind
            kept = kubectl.get(f"{plural}.v1alpha1.nvidia.com", name, "-n", schema_only_namespace)
            assert (kept["metadata"]["uid"], kept["spec"]) == (written[kind]["metadata"]["uid"], obj["spec"]), kind
            assert kept["metadata"]["resourceVersion"] != written[kind]["metadata"]["resourceVersion"], f"{kind} not re-written"
            served = kubectl.get(f"{plural}.v1beta1.nvidia.com", name, "-n", schema_only_namespace)
            assert (served["apiVersion"], served["metadata"]["uid"]) == ("nvidia.com/v1beta1", written[kind]["metadata"]["uid"])

        # etcd and NATS are gone with the defaults; their data claims stay.
        left = [name for name in identities(release, STATEFUL_SET, SERVICE)
                if name.split("/")[1].startswith(("dynamo-platform-etcd", "dynamo-platform-nats"))]
        assert not left, left
        assert identities(release, PERSISTENT_VOLUME_CLAIM) == claims

        # The operator configuration names no etcd or NATS; the data plane rolls its pods to it.
        rewired = ClusterDataPlane(kube_api, namespace=namespace)
        assert addresses(rewired.wiring) == ("kubernetes", None, None)
        assert rewired.up() is False, "the data plane's Deployments were gone before the rewiring"
        for component in ("frontend", "worker"):
            for pod in running_pods(rewired, component):
                assert pod["metadata"]["uid"] not in before[component], f"{component} pod not replaced"
                env = main_env(pod)
                assert "ETCD_ENDPOINTS" not in env and "NATS_SERVER" not in env, (component, env)
                assert env["DYN_DISCOVERY_BACKEND"] == "kubernetes", (component, env)
        results = inference.functional(rewired.frontend_url, rewired.model)
        assert results and all(r.ok for r in results), [(r.name, r.reason) for r in results if not r.ok]
    finally:
        on_0_4.down()
        platform.upgrade()  # the session's values again: hook off, storage flags on this chart's versions


def test_upgrade_from_0_4_keeping_etcd_and_nats_keeps_their_data_and_addresses__operator_on_kwok(install, kubectl, kube_api):
    release = install(OVERLAY, WEBHOOKS, chart=PREVIOUS_CHART)
    wiring = Wiring.from_release(kube_api, release.namespace, release.name)
    assert wiring.etcd and wiring.nats, wiring.describe()
    data = DataPlane(kubectl, release.namespace)
    written = write_both(data)
    stateful = identities(release, STATEFUL_SET, PERSISTENT_VOLUME_CLAIM)

    release.upgrade(OVERLAY, {**WEBHOOKS, **ETCD_AND_NATS})  # as docs/operations.md tells users who keep them
    wait_statefulsets_ready(kubectl, release.namespace)

    assert identities(release, STATEFUL_SET, PERSISTENT_VOLUME_CLAIM) == stateful, "a StatefulSet or PVC was replaced"
    assert_on_real_node(kubectl, release.namespace)
    assert_both_read_back(data, written)
    assert addresses(Wiring.from_release(kube_api, release.namespace, release.name)) == addresses(wiring)
