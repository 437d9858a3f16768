"""The conformance probes reach a cluster through dynamo_harness/kube_api.py (the `kubernetes`
client), not kubectl: how the CLI's targets build it, how API errors read, and the node debug pod
that replaces `kubectl debug node/NAME --profile=sysadmin`. The install layer runs the packaged CLI
against a real API server (tests/install/test_packaged_conformance.py)."""

import json
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from dynamo_harness.clusters.existing import ExistingCluster
from dynamo_harness.conformance import cli, node_checks, suite
from dynamo_harness.kube_api import KubeApi, KubeApiError, _translated


def test_a_kubeconfig_or_in_cluster_gives_the_targets_one_api_and_every_cluster_probe_needs_it(tmp_path):
    assert suite.Targets(kubeconfig=tmp_path / "kubeconfig").kube.kubeconfig == tmp_path / "kubeconfig"
    assert suite.Targets(in_cluster=True).kube.kubeconfig is None  # the pod's ServiceAccount
    assert suite.Targets().kube is None
    cluster_probes = {p.name for p in suite.PROBES if "kube" in p.needs}
    assert cluster_probes >= {"crds", "platform_workloads", "operator_simulated", "dgds", "worker_settings",
                              "deploy_stage", "node_resources"}
    assert not [p.name for p in suite.PROBES if "kubeconfig" in p.needs]


def test_an_api_refusal_reads_as_kubectl_would_print_it():
    err = ApiException(status=404, reason="Not Found")
    err.body = json.dumps({"kind": "Status", "reason": "NotFound",
                           "message": 'dynamographdeployments.nvidia.com "vllm-agg" not found'})
    found = _translated(err)
    assert found.not_found and found.stderr == 'Error from server (NotFound): dynamographdeployments.nvidia.com "vllm-agg" not found'


def test_the_node_debug_pod_is_kubectl_debugs_sysadmin_profile():
    pod = node_checks.NodeDebugBackend(KubeApi(Path("unused")), "gpu-node-1").pod("nvidia-smi -L")
    spec = pod["spec"]
    assert (spec["nodeName"], spec["hostPID"], spec["hostNetwork"], spec["hostIPC"]) == ("gpu-node-1", True, True, True)
    (container,) = spec["containers"]
    assert container["command"] == ["chroot", "/host", "sh", "-c", "nvidia-smi -L"]
    assert container["securityContext"] == {"privileged": True}
    assert spec["volumes"] == [{"name": "host-root", "hostPath": {"path": "/"}}]
    assert spec["tolerations"] == [{"operator": "Exists"}]


def test_a_cluster_node_without_a_cluster_is_refused(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--node", "gpu-node-1"])
    assert "--node <name> needs --kubeconfig or --in-cluster" in capsys.readouterr().err


def test_an_unusable_kubeconfig_is_named_as_such_and_the_existing_provider_says_why_it_cannot_run(tmp_path):
    malformed = tmp_path / "kubeconfig"
    malformed.write_text("not a kubeconfig\n")
    with pytest.raises(KubeApiError) as raised:
        KubeApi(malformed).server_version()
    assert raised.value.reason == "Kubeconfig" and str(malformed) in raised.value.stderr
    assert ExistingCluster(malformed).unavailable().startswith(f"cluster of {malformed} not reachable: error: cannot use the kubeconfig")
    assert ExistingCluster(tmp_path / "absent").unavailable() == (
        f"no kubeconfig at {tmp_path / 'absent'}: set KUBECONFIG to the cluster to test")
