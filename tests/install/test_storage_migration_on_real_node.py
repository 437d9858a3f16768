"""The storage-version migration hook (dynamo-operator.storageMigration) running for real: its Job
pod on the local cluster's real node, from the kubectl image built here, calling the API server.

The previous chart (tests/data/dynamo-platform-0.1.0.tgz) stored DGDRs as v1alpha1; this one
stores v1beta1. As in test_api_versions.py, the session's platform release owns the CRDs, so the
old state is put back by hand: the DGDR CRD's storage flag on v1alpha1 (as Helm's field manager)
and DGDRs written then, which etcd holds as v1alpha1. The upgrade to this chart runs the hook;
etcd is then read directly to see how each object is stored.

Stand-ins, said here once: the conversion webhook is the stand-in of conversion_standin.py (no
operator runs locally; it maps no fields), and pods reach the API server through the real node's
relay (apiserver_relay.py: the API server listens on loopback only). Elsewhere the harness turns the hook off on the
local cluster (helm_release.py NO_STORAGE_MIGRATION). Skips, with the reason, without the real node.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess

import pytest
import requests
import yaml

from dynamo_harness import images
from dynamo_harness.clusters import real_node
from dynamo_harness.clusters.local import LocalCluster
from dynamo_harness.helm import HelmError
from dynamo_harness.kube import condition, pod_placement

DGDR_CRD = "dynamographdeploymentrequests.nvidia.com"
COMPONENT = "app.kubernetes.io/component=storage-migration"


@pytest.fixture(scope="module")
def relay(node_cluster, kubectl, conversion_standin):
    certificate = str(node_cluster.pki.cert("apiserver"))
    sans = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", certificate],
                          capture_output=True, text=True, check=True).stdout
    if f"IP Address:{real_node.KUBERNETES_SERVICE_IP}" not in sans:
        pytest.skip("the running local cluster's API server certificate predates the `kubernetes` Service IP in it: "
                    "restart the cluster (it is made again on start)")
    log = node_cluster.node.processes.log("apiserver-relay")
    return lambda: log.read_text().count("relayed connection")  # connections relayed so far


def migration_values(**extra) -> dict:
    """The hook on, its pod on the real node, from the local kubectl image."""
    recipe = images.RECIPES["kubectl"]
    registry, repository = recipe.ref.rsplit(":", 1)[0].rsplit("/", 1)
    key = "dynamo-operator.storageMigration"
    values = {f"{key}.enabled": True,
              f"{key}.image": {"registry": registry, "repository": repository, "tag": recipe.tag, "pullPolicy": "Never"},
              f"{key}.nodeSelector": real_node.LABEL,
              f"{key}.tolerations": [{**real_node.TAINT, "operator": "Equal"}]}
    return values | {f"{key}.{name}": value for name, value in extra.items()}


def store_as_v1alpha1(kubectl, namespace: str, dgdrs: dict[str, dict]) -> None:
    """The CRD's storage flag back on v1alpha1, then the DGDRs written as the previous release did."""
    live = kubectl.get("crd", DGDR_CRD)
    old = {"apiVersion": live["apiVersion"], "kind": live["kind"], "metadata": {"name": DGDR_CRD}, "spec": live["spec"]}
    old["spec"]["versions"] = [{**v, "storage": v["name"] == "v1alpha1"} for v in live["spec"]["versions"]]
    kubectl.run("apply", "--server-side", "--force-conflicts", "--field-manager=helm", "-f", "-", input=json.dumps(old))
    for name, spec in dgdrs.items():
        dgdr = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeploymentRequest", "metadata": {"name": name}, "spec": spec}
        kubectl.run("create", "-n", namespace, "-f", "-", input=yaml.safe_dump(dgdr))


def stored_api_version(cluster: LocalCluster, namespace: str, name: str) -> str:
    """apiVersion of the object as etcd holds it (etcd's JSON gateway, on the cluster's loopback port)."""
    key = f"/registry/nvidia.com/dynamographdeploymentrequests/{namespace}/{name}"
    answer = requests.post(f"http://127.0.0.1:{cluster.ports['etcd-client']}/v3/kv/range",
                           json={"key": base64.b64encode(key.encode()).decode()}, timeout=30).json()
    (kv,) = answer["kvs"]
    return json.loads(base64.b64decode(kv["value"]))["apiVersion"]


def lost_fields(written: dict, read: dict, path: str = "spec") -> list[str]:
    """Paths of the written fields that read back missing or changed."""
    lost = []
    for key, value in written.items():
        if isinstance(value, dict) and isinstance(read.get(key), dict):
            lost += lost_fields(value, read[key], f"{path}.{key}")
        elif read.get(key) != value:
            lost.append(f"{path}.{key}: wrote {value!r}, read {read.get(key)!r}")
    return lost


def stored_versions(kubectl) -> list[str]:
    return kubectl.get("crd", DGDR_CRD)["status"]["storedVersions"]


def migration_job(kubectl, platform) -> dict:
    """The hook Job of the release's current revision."""
    revision = json.loads(platform.helm.run("status", platform.name, "-n", platform.namespace, "-o", "json"))["version"]
    return kubectl.get("job", f"{platform.name}-dynamo-operator-storage-migration-{revision}", "-n", platform.namespace)


def job_pod_and_logs(kubectl, job: dict) -> tuple[dict, str]:
    namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
    (pod,) = kubectl.items("pods", "-n", namespace, "-l", f"job-name={name}")
    return pod, kubectl.run("logs", "-n", namespace, pod["metadata"]["name"])


def test_upgrade_re_stores_v1alpha1_dgdrs_as_v1beta1_and_drops_v1alpha1_from_stored_versions__job_on_real_node(
        cluster, kubectl, platform, schema_only_namespace, conversion_standin, relay):
    dgdrs = {"quickstart": {"model": "Qwen/Qwen3-0.6B"},
             "planned": {"model": "Qwen/Qwen3-0.6B", "backend": "vllm", "autoApply": True,
                         "sla": {"ttft": 200.0, "itl": 20.0}, "workload": {"isl": 3000, "osl": 150}}}
    try:
        store_as_v1alpha1(kubectl, schema_only_namespace, dgdrs)
        assert {stored_api_version(cluster, schema_only_namespace, n) for n in dgdrs} == {"nvidia.com/v1alpha1"}
        assert "v1alpha1" in stored_versions(kubectl)
        connections = relay()

        platform.upgrade(values=migration_values())

        job = migration_job(kubectl, platform)
        assert job["status"].get("succeeded") == 1 and condition(job, "Complete").get("status") == "True", job["status"]
        pod, logs = job_pod_and_logs(kubectl, job)
        assert pod_placement([pod], kubectl.items("nodes")) == f"running on {real_node.NODE_NAME}"
        assert relay() > connections, "the Job's kubectl did not reach the API server through the relay"
        assert re.search(rf"{DGDR_CRD}: re-wrote [0-9]+ object\(s\) as v1beta1, 0 failed", logs), logs
        assert stored_versions(kubectl) == ["v1beta1"]
        for name, spec in dgdrs.items():
            assert stored_api_version(cluster, schema_only_namespace, name) == "nvidia.com/v1beta1", name
            # The stand-in maps no fields, and these are fields of both versions: each written field
            # reads back unchanged in each version (v1beta1 adds its defaults beside them).
            for version in ("v1beta1", "v1alpha1"):
                read = kubectl.get(f"dynamographdeploymentrequests.{version}.nvidia.com", name, "-n", schema_only_namespace)
                assert read["apiVersion"] == f"nvidia.com/{version}", read["apiVersion"]
                assert not lost_fields(spec, read["spec"]), (name, version, lost_fields(spec, read["spec"]))
    finally:
        platform.upgrade()  # the session's values again: hook off, storage flag on v1beta1


def test_a_dgdr_that_cannot_be_converted_fails_the_job_and_leaves_stored_versions__job_on_real_node(
        cluster, kubectl, platform, schema_only_namespace, conversion_standin, relay):
    try:
        store_as_v1alpha1(kubectl, schema_only_namespace, {"unconvertible": {"model": "Qwen/Qwen3-0.6B"}})
        conversion_standin.refuse = {"unconvertible"}
        before = stored_versions(kubectl)
        assert "v1alpha1" in before

        with pytest.raises(HelmError) as failed:
            platform.upgrade(values=migration_values(backoffLimit=0))
        assert "storage-migration" in str(failed.value)

        job = migration_job(kubectl, platform)
        assert condition(job, "Failed").get("status") == "True", job["status"]
        _, logs = job_pod_and_logs(kubectl, job)
        assert "ERROR: cannot list dynamographdeploymentrequests.v1beta1.nvidia.com" in logs, logs
        assert "storedVersions is" not in logs
        assert stored_versions(kubectl) == before
        assert stored_api_version(cluster, schema_only_namespace, "unconvertible") == "nvidia.com/v1alpha1"
    finally:
        conversion_standin.refuse = set()
        kubectl.run("delete", "dynamographdeploymentrequests.v1alpha1.nvidia.com", "unconvertible", "-n",
                    schema_only_namespace, "--ignore-not-found")
        platform.upgrade()
