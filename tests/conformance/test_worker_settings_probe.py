"""deploy/worker-settings: the running worker pods of a DGD carry the platform release's worker
settings. No operator runs here, so the verdicts are exercised on canned `kubectl get -o json`
output shaped like an EKS cluster's (tests/conformance/pods/): a frontend pod and the decode and
prefill pods of an SGLang disaggregated DGD, as upstream's operator labels them."""

import json
from pathlib import Path

import pytest

from dynamo_harness.conformance import suite
from dynamo_harness.conformance.deployment import worker_settings_verdict
from dynamo_harness.results import Status
from dynamo_harness.deploy.worker_settings import WorkerSettings, from_values_files
from dynamo_harness.kube import KWOK_NODE_ANNOTATION
from dynamo_harness.paths import OVERLAYS

PODS = Path(__file__).parent / "pods"
DGD = {"apiVersion": "nvidia.com/v1beta1", "kind": "DynamoGraphDeployment", "metadata": {"name": "sglang-disagg"}}


@pytest.fixture
def canned():
    """(pods, nodes by name) of the canned EKS cluster, fresh for each test to change."""
    pods = json.loads((PODS / "eks-efa-pods.json").read_text())["items"]
    nodes = {n["metadata"]["name"]: n for n in json.loads((PODS / "eks-efa-nodes.json").read_text())["items"]}
    return pods, nodes


def eks_efa():
    return from_values_files([OVERLAYS / "eks-efa.yaml"])


def verdict(pods, nodes, settings=None, dgd=DGD):
    return worker_settings_verdict(eks_efa() if settings is None else settings, "team-a/sglang-disagg", dgd, pods, nodes)


def pod(pods, component_type):
    (found,) = [p for p in pods if p["metadata"]["labels"]["nvidia.com/dynamo-component-type"] == component_type]
    return found


def test_worker_pods_that_carry_every_setting_pass(canned):
    outcome = verdict(*canned)
    assert outcome.status is Status.PASS, outcome.reason
    assert outcome.figures == {"pods": 2}  # decode and prefill; the frontend is not a worker
    assert "2 worker pod(s) of team-a/sglang-disagg carry env FI_PROVIDER" in outcome.reason


def test_a_worker_pod_without_the_gpu_toleration_fails_naming_pod_and_setting(canned):
    pods, nodes = canned
    prefill = pod(pods, "prefill")
    prefill["spec"]["tolerations"] = [t for t in prefill["spec"]["tolerations"] if t["key"] != "nvidia.com/gpu"]
    del prefill["spec"]["nodeName"]  # Pending: nothing tolerates the GPU taint
    outcome = verdict(pods, nodes)
    assert outcome.status is Status.FAIL
    assert "sglang-disagg-prefill-6c4d8e7f5-r3t8n lacks toleration nvidia.com/gpu" in outcome.reason
    assert outcome.figures == {"pods": 2, "pods_lacking": 1}


def test_a_worker_pod_without_efa_devices_or_env_fails_listing_each(canned):
    pods, nodes = canned
    main = pod(pods, "decode")["spec"]["containers"][0]
    main["env"] = [e for e in main["env"] if e["name"] not in ("FI_PROVIDER", "SGLANG_DISAGGREGATION_NIXL_BACKEND")]
    main["resources"] = {"limits": {"nvidia.com/gpu": "8"}}
    outcome = verdict(pods, nodes)
    assert outcome.status is Status.FAIL
    assert ("sglang-disagg-decode-5f8b7c9d6-q7w4m lacks env FI_PROVIDER, env SGLANG_DISAGGREGATION_NIXL_BACKEND, "
            "resource vpc.amazonaws.com/efa") in outcome.reason


def test_a_value_the_user_chose_instead_counts_as_carried(canned):
    pods, nodes = canned
    main = pod(pods, "decode")["spec"]["containers"][0]
    main["env"] = [{**e, "value": "UCX"} if e["name"] == "SGLANG_DISAGGREGATION_NIXL_BACKEND" else e for e in main["env"]]
    main["resources"] = {"limits": {"nvidia.com/gpu": "8", "vpc.amazonaws.com/efa": "2"}}
    assert verdict(pods, nodes).status is Status.PASS


def test_node_selector_of_the_gke_overlay_is_checked(canned):
    pods, nodes = canned
    gke = from_values_files([OVERLAYS / "gke.yaml"])
    outcome = verdict(pods, nodes, gke)
    assert outcome.status is Status.FAIL and "lacks nodeSelector cloud.google.com/gke-accelerator" in outcome.reason
    for worker in (pod(pods, "decode"), pod(pods, "prefill")):
        worker["spec"]["nodeSelector"] = {"cloud.google.com/gke-accelerator": "nvidia-l4"}
        worker["spec"]["tolerations"].append({"key": "nvidia.com/gpu", "operator": "Equal", "value": "present",
                                              "effect": "NoSchedule"})
    assert verdict(pods, nodes, gke).status is Status.PASS


def test_pods_on_simulated_nodes_are_skipped_saying_so(canned):
    pods, nodes = canned
    for node in nodes.values():
        node["metadata"].setdefault("annotations", {})[KWOK_NODE_ANNOTATION] = "fake"
    outcome = verdict(pods, nodes)
    assert outcome.status is Status.SKIP and "simulated (kwok)" in outcome.reason


def test_no_worker_pods_on_an_all_simulated_cluster_skips(canned):
    _, nodes = canned
    for node in nodes.values():
        node["metadata"].setdefault("annotations", {})[KWOK_NODE_ANNOTATION] = "fake"
    outcome = verdict([], nodes)
    assert outcome.status is Status.SKIP and "every node is simulated (kwok)" in outcome.reason


def test_no_worker_pods_on_a_real_cluster_fails(canned):
    pods, nodes = canned
    outcome = verdict([pod(pods, "frontend")], nodes)
    assert outcome.status is Status.FAIL
    assert "team-a/sglang-disagg has no worker pods (labels nvidia.com/dynamo-graph-deployment-name=sglang-disagg" in outcome.reason


def test_no_worker_pods_where_the_platforms_operator_is_simulated_skips_on_real_nodes(canned):
    """The kind cluster here: real nodes, but the operator is a kwok pod, so no DGD gets pods."""
    pods, nodes = canned
    outcome = worker_settings_verdict(eks_efa(), "team-a/sglang-disagg", DGD, [pod(pods, "frontend")], nodes,
                                      operator_simulated=True)
    assert outcome.status is Status.SKIP and "the platform's operator is simulated (kwok)" in outcome.reason


def test_an_absent_dgd_skips_with_the_reason(canned):
    outcome = verdict(*canned, dgd=None)
    assert outcome.status is Status.SKIP and outcome.reason.startswith("DGD team-a/sglang-disagg not found")


def test_a_release_without_worker_settings_skips(canned):
    outcome = verdict(*canned, settings=WorkerSettings(source="release dynamo-system/dynamo-platform"))
    assert outcome.status is Status.SKIP
    assert outcome.reason == "release dynamo-system/dynamo-platform sets no worker settings: nothing to check on team-a/sglang-disagg"


def test_the_probe_is_registered_for_a_cluster_a_platform_and_dgds():
    (registered,) = [p for p in suite.PROBES if p.name == "worker_settings"]
    assert registered.needs == ("kube", "platform_namespace", "dgds")
    assert "platform_release" in {name for name, _ in suite.Targets.options()}

