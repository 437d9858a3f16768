"""The storage-version migration hook (dynamo-operator.storageMigration) running for real: its Job
pod on the local cluster's real node, from the kubectl image built here, calling the API server.

The previous chart (tests/data/dynamo-platform-0.1.0.tgz) stored DGDRs as v1alpha1; this one
stores v1beta1 (DGDs and DCDs too, from Dynamo 1.5.0: test_upgrade_from_0_4.py migrates those). As
in test_api_versions.py, the session's platform release owns the CRDs, so the old state is put
back by hand (tests/support/storage_migration.py): the DGDR CRD's storage flag on v1alpha1 (as
Helm's field manager) and DGDRs written then, which etcd holds as v1alpha1. The upgrade to this
chart runs the hook; etcd is then read directly to see how each object is stored.

Stand-ins, said here once: the conversion webhook is the stand-in of conversion_standin.py (no
operator runs locally; it maps no fields), and pods reach the API server through the real node's
relay (apiserver_relay.py: the API server listens on loopback only). Elsewhere the harness turns the hook off on the
local cluster (helm_release.py NO_STORAGE_MIGRATION). Skips, with the reason, without the real node.
"""

from __future__ import annotations

import re

import pytest
import yaml

from dynamo_harness.clusters import real_node
from dynamo_harness.clusters.local import LocalCluster
from dynamo_harness.helm import HelmError
from dynamo_harness.kube import condition, pod_placement

from support import storage_migration as sm
from support.storage_migration import job_pod_and_logs, migration_job, migration_values

DGDR_CRD = "dynamographdeploymentrequests.nvidia.com"
COMPONENT = "app.kubernetes.io/component=storage-migration"


@pytest.fixture(scope="module")
def relay(node_cluster, kubectl, conversion_standin):
    return sm.relay_connections(node_cluster)  # connections relayed so far


def store_as_v1alpha1(kubectl, namespace: str, dgdrs: dict[str, dict]) -> None:
    """The CRD's storage flag back on v1alpha1, then the DGDRs written as the previous release did."""
    sm.set_storage_version(kubectl, DGDR_CRD, "v1alpha1")
    for name, spec in dgdrs.items():
        dgdr = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeploymentRequest", "metadata": {"name": name}, "spec": spec}
        kubectl.run("create", "-n", namespace, "-f", "-", input=yaml.safe_dump(dgdr))


def stored_api_version(cluster: LocalCluster, namespace: str, name: str) -> str:
    return sm.stored_api_version(cluster, "dynamographdeploymentrequests", namespace, name)


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
    return sm.stored_versions(kubectl, DGDR_CRD)


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
        assert f"{DGDR_CRD}: status.storedVersions is" not in logs  # the other moved CRDs (DGD, DCD) may finish
        assert stored_versions(kubectl) == before
        assert stored_api_version(cluster, schema_only_namespace, "unconvertible") == "nvidia.com/v1alpha1"
    finally:
        conversion_standin.refuse = set()
        kubectl.run("delete", "dynamographdeploymentrequests.v1alpha1.nvidia.com", "unconvertible", "-n",
                    schema_only_namespace, "--ignore-not-found")
        platform.upgrade()
