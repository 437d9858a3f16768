"""The storage-version migration hook on the local cluster's real node, and the old storage state
it migrates from, for the install tests that run it (test_storage_migration_on_real_node.py,
test_upgrade_from_0_4.py).

The session's platform release owns the CRDs and they already store this chart's versions, so an
earlier chart's state is put back by hand: the CRD's storage flag on the old version (as Helm's
field manager, so the next upgrade takes it back as a chart upgrade would), then objects written
then, which etcd holds in that version. etcd is read directly to see how an object is stored."""

from __future__ import annotations

import base64
import json
import re
import subprocess

import pytest
import requests

from dynamo_harness import images
from dynamo_harness.clusters import real_node
from dynamo_harness.clusters.local import LocalCluster
from dynamo_harness.kube import Kubectl

KEY = "dynamo-operator.storageMigration"


def relay_connections(node_cluster: LocalCluster):
    """A counter of the connections the real node's API server relay has made so far; skips where
    the running cluster's API server certificate lacks the `kubernetes` Service IP."""
    certificate = str(node_cluster.pki.cert("apiserver"))
    sans = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", certificate],
                          capture_output=True, text=True, check=True).stdout
    if f"IP Address:{real_node.KUBERNETES_SERVICE_IP}" not in sans:
        pytest.skip("the running local cluster's API server certificate predates the `kubernetes` Service IP in it: "
                    "restart the cluster (it is made again on start)")
    log = node_cluster.node.processes.log("apiserver-relay")
    return lambda: log.read_text().count("relayed connection")


def migration_values(**extra) -> dict:
    """The hook on, its pod on the real node, from the local kubectl image."""
    recipe = images.RECIPES["kubectl"]
    registry, repository = recipe.ref.rsplit(":", 1)[0].rsplit("/", 1)
    values = {f"{KEY}.enabled": True,
              f"{KEY}.image": {"registry": registry, "repository": repository, "tag": recipe.tag, "pullPolicy": "Never"},
              f"{KEY}.nodeSelector": real_node.LABEL,
              f"{KEY}.tolerations": [{**real_node.TAINT, "operator": "Equal"}]}
    return values | {f"{KEY}.{name}": value for name, value in extra.items()}


def set_storage_version(kubectl: Kubectl, crd_name: str, version: str) -> None:
    """The CRD's storage flag on `version`, as Helm's field manager."""
    live = kubectl.get("crd", crd_name)
    old = {"apiVersion": live["apiVersion"], "kind": live["kind"], "metadata": {"name": crd_name}, "spec": live["spec"]}
    old["spec"]["versions"] = [{**v, "storage": v["name"] == version} for v in live["spec"]["versions"]]
    kubectl.run("apply", "--server-side", "--force-conflicts", "--field-manager=helm", "-f", "-", input=json.dumps(old))


def stored_versions(kubectl: Kubectl, crd_name: str) -> list[str]:
    return kubectl.get("crd", crd_name)["status"]["storedVersions"]


def stored_api_version(cluster: LocalCluster, plural: str, namespace: str, name: str) -> str:
    """apiVersion of the object as etcd holds it (etcd's JSON gateway, on the cluster's loopback port)."""
    key = f"/registry/nvidia.com/{plural}/{namespace}/{name}"
    answer = requests.post(f"http://127.0.0.1:{cluster.ports['etcd-client']}/v3/kv/range",
                           json={"key": base64.b64encode(key.encode()).decode()}, timeout=30).json()
    (kv,) = answer["kvs"]
    return json.loads(base64.b64decode(kv["value"]))["apiVersion"]


def migration_job(kubectl: Kubectl, platform) -> dict:
    """The hook Job of the release's current revision."""
    revision = json.loads(platform.helm.run("status", platform.name, "-n", platform.namespace, "-o", "json"))["version"]
    return kubectl.get("job", f"{platform.name}-dynamo-operator-storage-migration-{revision}", "-n", platform.namespace)


def job_pod_and_logs(kubectl: Kubectl, job: dict) -> tuple[dict, str]:
    namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
    (pod,) = kubectl.items("pods", "-n", namespace, "-l", f"job-name={name}")
    return pod, kubectl.run("logs", "-n", namespace, pod["metadata"]["name"])


def rewrote(logs: str, crd_name: str, version: str = "v1beta1") -> int | None:
    """How many objects the Job's log says it re-wrote for the CRD with none failed, else None."""
    match = re.search(rf"{re.escape(crd_name)}: re-wrote ([0-9]+) object\(s\) as {version}, 0 failed", logs)
    return int(match.group(1)) if match else None
