"""Hardening proven on a real API server: the restricted Pod Security Standard admits every
platform pod, upgrades from the previous chart keep the data, generated credentials survive
upgrades, and PVCs are deleted on uninstall only when the user opted in."""

import pytest

from dynamo_harness.helm import ETCD_AND_NATS, HelmError
from dynamo_harness.kube_api import DEPLOYMENT, NETWORK_POLICY, PERSISTENT_VOLUME_CLAIM, SECRET, STATEFUL_SET
from dynamo_harness.paths import ROOT

RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}
PREVIOUS_CHART = ROOT / "tests" / "data" / "dynamo-platform-0.1.0.tgz"  # packaged by `make previous-chart`
# Everything that runs under restricted: etcd and NATS (off by default) with auth and TLS, quorum
# sizes, policies.
HARDENED = {
    **ETCD_AND_NATS,
    "global.etcd.auth.enabled": True,
    "global.etcd.tls.enabled": True,
    "global.nats.auth.enabled": True,
    "global.nats.tls.enabled": True,
    "global.networkPolicy.enabled": True,
    "etcd.replicas": 3,
    "nats.replicas": 3,
    "dynamo-operator.controllerManager.replicas": 2,
}


def data_identity(release) -> dict[str, tuple[str, str]]:
    """Every PVC and StatefulSet of the release by name: uid, and the bound volume for PVCs."""
    found = {c["metadata"]["name"]: (c["metadata"]["uid"], c["spec"].get("volumeName"))
             for c in release.objects(PERSISTENT_VOLUME_CLAIM)}
    found.update({s["metadata"]["name"]: (s["metadata"]["uid"], s["spec"]["serviceName"])
                  for s in release.objects(STATEFUL_SET)})
    return found


def secret_data(release) -> dict[str, dict]:
    return {s["metadata"]["name"]: s["data"] for s in release.objects(SECRET)}


def test_hardened_platform_installs_into_a_namespace_enforcing_restricted(install, kubectl):
    release = install(values=HARDENED, namespace_labels=RESTRICTED)
    refused = [e["message"] for e in kubectl.items("events", "-n", release.namespace, "--field-selector", "reason=FailedCreate")]
    assert not refused, refused
    pods = release.pods()
    workloads = release.objects(DEPLOYMENT, STATEFUL_SET)
    assert sum(w["spec"]["replicas"] for w in workloads) == len([p for p in pods if p["status"]["phase"] == "Running"]) == 8
    assert len(release.objects(NETWORK_POLICY)) == 3


def test_restricted_namespace_refuses_a_privileged_pod(install, kubectl):
    """The control: the namespace label really is enforced by this API server."""
    release = install(values={"dynamo-operator.enabled": False, "global.etcd.install": False, "global.nats.install": False},
                      namespace_labels=RESTRICTED)
    privileged = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "privileged", "namespace": release.namespace},
                  "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext": {"privileged": True}}]}}
    with pytest.raises(Exception, match="violates PodSecurity \"restricted:latest\""):
        kubectl.apply([privileged])


def test_snapshot_agent_is_refused_where_restricted_is_enforced(install):
    values = {"snapshot.enabled": True, "dynamo-operator.checkpoint.enabled": True}
    with pytest.raises(HelmError, match="enforces the \"restricted\" Pod Security Standard"):
        install(values=values, namespace_labels=RESTRICTED)


def test_upgrade_from_the_previous_chart_keeps_etcd_and_nats_data(install):
    release = install(chart=PREVIOUS_CHART)
    before = data_identity(release)
    assert {"data-dynamo-platform-etcd-0", "data-dynamo-platform-nats-0", "dynamo-platform-etcd", "dynamo-platform-nats"} <= set(before)
    # 0.1.0 installs etcd and NATS by default, this chart does not: a user keeping them says so.
    release.upgrade(values=ETCD_AND_NATS)
    assert data_identity(release) == before, "an upgrade replaced a StatefulSet or a PVC"
    pods = {p["metadata"]["name"] for p in release.pods()}
    assert {"dynamo-platform-etcd-0", "dynamo-platform-nats-0"} <= pods


def test_generated_credentials_and_certificates_survive_an_upgrade(install):
    values = {k: v for k, v in HARDENED.items() if k.startswith("global.")}
    release = install(values=values)
    before = secret_data(release)
    assert {"dynamo-platform-etcd-auth", "dynamo-platform-etcd-tls", "dynamo-platform-nats-auth", "dynamo-platform-nats-tls",
            "dynamo-platform-webhook-server-cert"} <= set(before)
    release.upgrade(values={**values, "nats.maxPayload": 1048576})
    after = secret_data(release)
    assert {name: after[name] for name in before} == before


def test_opting_in_deletes_the_data_pvcs_on_uninstall(install, kubectl):
    release = install(values={**ETCD_AND_NATS, "etcd.persistence.deleteOnUninstall": True,
                             "nats.jetstream.fileStore.deleteOnUninstall": True})
    assert len(release.objects(PERSISTENT_VOLUME_CLAIM)) == 2
    release.uninstall()
    kubectl.wait_for(lambda: not release.objects(PERSISTENT_VOLUME_CLAIM), "the opted-in PVCs to be deleted", timeout=90)
