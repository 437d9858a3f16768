"""The local cluster's real node: containers really run (containerd + runc + kubelet), Services and
cluster DNS work from pods, and `down` leaves nothing on the host.

These skip, naming the reason, where the machine cannot run containers (the cluster is kwok-only).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from dynamo_harness import images
from dynamo_harness.clusters import real_node
from dynamo_harness.clusters.local import LocalCluster
from dynamo_harness.kube import Kubectl, condition, pod_placement


def make_namespace(kubectl: Kubectl) -> str:
    name = f"node-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    return name


@pytest.fixture
def namespace(node_cluster: LocalCluster) -> Iterator[str]:
    name = make_namespace(node_cluster.kubectl)
    yield name
    node_cluster.kubectl.run("delete", "namespace", name, "--wait=false")


def on_real_node(spec: dict) -> dict:
    """A pod spec that opts in to the real node (its taint keeps every other pod off)."""
    return {**spec, "nodeSelector": real_node.LABEL,
            "tolerations": [{**real_node.TAINT, "operator": "Equal"}],
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}}


def sandbox_pod(name: str) -> dict:
    """The smallest real pod: the locally built pause image as the only container."""
    container = {"name": "main", "image": real_node.SANDBOX_IMAGE, "imagePullPolicy": "Never",
                 "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": on_real_node({"containers": [container], "terminationGracePeriodSeconds": 1})}


def wait_running(kubectl: Kubectl, namespace: str, name: str, timeout: float = 90) -> dict:
    def running():
        pod = kubectl.get("pod", name, "-n", namespace)
        return pod if condition(pod, "Ready").get("status") == "True" else None
    return kubectl.wait_for(running, f"pod {namespace}/{name} Ready", timeout)


def test_real_node_is_ready_and_reports_the_pinned_kubelet(node_cluster: LocalCluster):
    node = node_cluster.kubectl.get("node", real_node.NODE_NAME)
    assert condition(node, "Ready").get("status") == "True"
    api_version = json.loads(node_cluster.kubectl.run("get", "--raw", "/version"))["gitVersion"]
    assert node["status"]["nodeInfo"]["kubeletVersion"] == api_version  # one k8s.io/kubernetes pin
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.6")
    addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
    assert addresses["InternalIP"] == real_node.NODE_IP
    assert real_node.TAINT["key"] in {t["key"] for t in node["spec"].get("taints", [])}


def test_a_pod_from_a_locally_built_image_runs_on_the_real_node(node_cluster: LocalCluster, namespace: str):
    kubectl = node_cluster.kubectl
    kubectl.apply([sandbox_pod("sandbox")], "-n", namespace)
    pod = wait_running(kubectl, namespace, "sandbox")
    nodes = {n["metadata"]["name"]: n for n in kubectl.items("nodes")}
    assert pod_placement([pod], list(nodes.values())) == f"running on {real_node.NODE_NAME}"
    assert pod["status"]["podIP"].startswith(real_node.POD_CIDR.rsplit(".", 1)[0] + ".")
    state = pod["status"]["containerStatuses"][0]["state"]
    assert "running" in state, state


def test_pods_without_the_toleration_stay_on_kwok(node_cluster: LocalCluster, namespace: str):
    kubectl = node_cluster.kubectl
    pod = sandbox_pod("elsewhere")
    pod["spec"] = {k: v for k, v in pod["spec"].items() if k not in ("nodeSelector", "tolerations")}
    kubectl.apply([pod], "-n", namespace)
    scheduled = kubectl.wait_for(lambda: kubectl.get("pod", "elsewhere", "-n", namespace)["spec"].get("nodeName"),
                                 "pod scheduled", 60)
    nodes = {n["metadata"]["name"]: n for n in kubectl.items("nodes")}
    assert scheduled != real_node.NODE_NAME
    assert pod_placement([kubectl.get("pod", "elsewhere", "-n", namespace)], list(nodes.values())) == "simulated (kwok): no container runs"


def test_node_down_leaves_nothing_behind_and_the_node_starts_again(node_cluster: LocalCluster):
    """Runs a pod (mounts, netns, cgroups, iptables rules), takes the real node down (what
    `make down` does first), lists what is left on the host (must be nothing but the image store),
    then starts the node again for the tests after this one: its containers are gone from the
    image store, its images are not."""
    kubectl = node_cluster.kubectl
    namespace = make_namespace(kubectl)
    kubectl.apply([sandbox_pod("before-down")], "-n", namespace)
    wait_running(kubectl, namespace, "before-down")
    node = node_cluster.node
    assert node.leftovers(), "a running node should show up in leftovers(): the check would prove nothing"
    before = set(node.ctr("containers", "list", "--quiet").stdout.split())
    assert before, "the pod's sandbox and container should be in the image store"
    try:
        node.down()
        assert node.leftovers() == []
    finally:
        node_cluster.start_node()
    kubectl.run("delete", "namespace", namespace, "--wait=false")
    assert condition(kubectl.get("node", real_node.NODE_NAME), "Ready").get("status") == "True"
    assert not before & set(node.ctr("containers", "list", "--quiet").stdout.split())
    assert images.import_into(str(node.socket), real_node.IMAGE_NAMESPACE) == [], "the image store lost images"


def test_placement_names_the_node_or_says_simulated():
    kwok = {"metadata": {"name": "system-0", "annotations": {"kwok.x-k8s.io/node": "fake"}}}
    real = {"metadata": {"name": real_node.NODE_NAME}}
    nodes = {"system-0": kwok, real_node.NODE_NAME: real}
    assert pod_placement([{"spec": {"nodeName": "system-0"}}], list(nodes.values())) == "simulated (kwok): no container runs"
    assert pod_placement([{"spec": {"nodeName": real_node.NODE_NAME}}], list(nodes.values())) == f"running on {real_node.NODE_NAME}"
    assert pod_placement([{"spec": {}}], list(nodes.values())) == "not scheduled"


def test_the_node_names_why_it_cannot_run(tmp_path, monkeypatch):
    node = real_node.RealNode(tmp_path / "node", bin_dir=tmp_path / "no-bin")
    monkeypatch.setenv(real_node.SWITCH, "off")
    assert node.unavailable() == f"{real_node.SWITCH}=off"
    monkeypatch.delenv(real_node.SWITCH)
    monkeypatch.setattr(real_node.os, "geteuid", lambda: 1000)
    assert node.unavailable().startswith("not root")
    monkeypatch.setattr(real_node.os, "geteuid", lambda: 0)
    missing = node.unavailable()
    assert "kubelet" in missing and "--with-node" in missing and "\n" not in missing
