"""Per-overlay facts: what makes each cloud overlay correct for its cluster."""

import re

import pytest
import yaml

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.manifests import by_kind, ident, operator_config, pod_specs, walk, workload_settings
from dynamo_harness.paths import OVERLAYS, overlay_names

RELEASE = "dynamo-platform"
CLOUD_OVERLAYS = ("aks-spot", "eks-efa", "gke")
SPOT = {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot", "effect": "NoSchedule"}
EFA = "vpc.amazonaws.com/efa"


def test_aks_spot_every_pod_tolerates_spot_taint(render, everything_on):
    pods = pod_specs(render("aks-spot", everything_on("aks-spot")))
    assert len(pods) >= 8
    untolerated = [pod.name for pod in pods if SPOT not in pod.spec.get("tolerations", [])]
    assert not untolerated


def test_aks_spot_keeps_quorum_members_and_webhook_servers_off_the_spot_pool_and_spread(render):
    """Several spot VMs can go at once: etcd, NATS and the operator must require non-spot nodes,
    and still spread one per node."""
    off_spot = {"key": SPOT["key"], "operator": "NotIn", "values": ["spot"]}
    for workload in by_kind(render("aks-spot"), "StatefulSet", "Deployment"):
        spec = workload["spec"]["template"]["spec"]
        terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        assert all(off_spot in term["matchExpressions"] for term in terms), workload["metadata"]["name"]
        assert {c["topologyKey"]: c["whenUnsatisfiable"] for c in spec["topologySpreadConstraints"]}[
            "kubernetes.io/hostname"] == "DoNotSchedule", workload["metadata"]["name"]


def test_aks_spot_workers_tolerate_spot_and_gpu_taints(render):
    tolerations = workload_settings(render("aks-spot"))["workerDefaults"]["tolerations"]
    assert SPOT in tolerations
    assert any(t["key"] == "nvidia.com/gpu" for t in tolerations)


@pytest.mark.parametrize("overlay", overlay_names())
def test_efa_resources_only_in_eks_efa(render, overlay):
    # CRD descriptions name EFA as an example; every other object must not mention it.
    objects = [m for m in render(overlay) if m["kind"] != "CustomResourceDefinition"]
    mentions_efa = any(isinstance(v, str) and EFA in v for v in walk(objects))
    assert mentions_efa == (overlay == "eks-efa")


def test_eks_efa_workers_get_efa_devices_and_the_required_env(render):
    defaults = workload_settings(render("eks-efa"))["workerDefaults"]
    assert defaults["resources"]["limits"][EFA] == defaults["resources"]["requests"][EFA] == "4"
    env = {e["name"]: e["value"] for e in defaults["env"]}
    assert env["FI_PROVIDER"] == "efa"
    assert env["FI_EFA_USE_DEVICE_RDMA"] == "1"
    assert env["FI_EFA_ENABLE_SHM_TRANSFER"] == env["FI_EFA_ENABLE_SHM"] == "0"


@pytest.mark.parametrize(("overlay", "storage_class"), [("eks-efa", "gp3"), ("gke", "standard-rwo"), ("aks-spot", "managed-csi")])
def test_cloud_overlay_names_its_storage_class_on_every_pvc(render, overlay, storage_class):
    # EKS has no default StorageClass: an unnamed class would leave JetStream's PVC Pending.
    claims = [t for s in by_kind(render(overlay), "StatefulSet") for t in s["spec"]["volumeClaimTemplates"]]
    assert len(claims) == 2
    assert {c["spec"].get("storageClassName") for c in claims} == {storage_class}


def test_kind_assumes_no_storage_class(render):
    # kind leaves etcd and NATS off; turned on, their claims take the cluster's default class.
    claims = [t for s in by_kind(render("kind", ETCD_AND_NATS), "StatefulSet") for t in s["spec"]["volumeClaimTemplates"]]
    assert len(claims) == 2 and all("storageClassName" not in c["spec"] for c in claims)


def test_kind_has_the_smallest_footprint(render):
    # Every overlay with the same parts (etcd and NATS on), so kind's own sizes are compared.
    def memory_limits_mi(overlay):
        total = 0
        for pod in pod_specs(render(overlay, ETCD_AND_NATS)):
            for c in pod.containers():
                value = c["resources"]["limits"]["memory"]
                total += int(value[:-2]) * (1024 if value.endswith("Gi") else 1)
        return total

    assert memory_limits_mi("kind") < min(memory_limits_mi(o) for o in overlay_names() if o != "kind")


def test_gke_workers_select_gpu_node_pools(render):
    defaults = workload_settings(render("gke"))["workerDefaults"]
    assert "cloud.google.com/gke-accelerator" in defaults["nodeSelector"]
    assert {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"} in defaults["tolerations"]


@pytest.mark.parametrize("overlay", CLOUD_OVERLAYS)
def test_cloud_overlays_run_quorum_sized_etcd_and_nats_with_budgets(render, overlay):
    manifests = render(overlay)
    for statefulset in by_kind(manifests, "StatefulSet"):
        assert statefulset["spec"]["replicas"] == 3, ident(statefulset)
    budgets = {m["metadata"]["name"]: m["spec"]["minAvailable"] for m in by_kind(manifests, "PodDisruptionBudget")}
    assert budgets == {"dynamo-platform-etcd": 2, "dynamo-platform-nats": 2, "dynamo-platform-dynamo-operator": 1}


@pytest.mark.parametrize("overlay", CLOUD_OVERLAYS)
def test_cloud_overlay_states_its_etcd_and_nats_choice(overlay):
    """Upstream's default for etcd and NATS changed; a cloud overlay must not change with it."""
    values = yaml.safe_load((OVERLAYS / f"{overlay}.yaml").read_text())
    assert values["global"]["etcd"]["install"] is True and values["global"]["nats"]["install"] is True


def certificate_material(value: str) -> bool:
    return "-----BEGIN " in value or re.fullmatch(r"[A-Za-z0-9+/=]{64,}", value) is not None


@pytest.mark.parametrize("overlay", [None, "kind", *CLOUD_OVERLAYS], ids=lambda o: o or "defaults")
def test_etcd_and_nats_are_off_by_default_and_in_kind_and_on_in_every_cloud_overlay(render, overlay):
    """Upstream's defaults since 1.6 (Kubernetes discovery, TCP requests, ZMQ events); the cloud
    overlays keep the bundled etcd and NATS, and the operator wires workloads to them."""
    manifests = render(overlay)
    infrastructure = operator_config(manifests).get("infrastructure", {})
    if overlay in CLOUD_OVERLAYS:
        assert {f"StatefulSet/{RELEASE}-etcd", f"StatefulSet/{RELEASE}-nats", f"Service/{RELEASE}-etcd",
                f"Service/{RELEASE}-nats"} <= {ident(m) for m in manifests}
        assert infrastructure["etcdAddress"] == f"http://{RELEASE}-etcd.dynamo-system.svc.cluster.local:2379"
        assert infrastructure["natsAddress"] == f"nats://{RELEASE}-nats.dynamo-system.svc.cluster.local:4222"
    else:
        # No object, probe, address or env var names either (CRD descriptions aside).
        # Generated certificates (PEM, base64) are random text that can spell either word: not names.
        mentions = [ident(m) for m in manifests if m["kind"] != "CustomResourceDefinition"
                    and any(isinstance(v, str) and not certificate_material(v)
                            and ("etcd" in v.lower() or "nats" in v.lower()) for v in walk(m))]
        assert not mentions
        assert not {"etcdAddress", "natsAddress"} & set(infrastructure)
