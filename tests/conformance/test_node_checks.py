"""GPU and RDMA node checks, run on a testinfra Host.

This machine has no GPU, InfiniBand or EFA device, so the checks are exercised on canned
command outputs shaped like real nodes (tests/conformance/nodes/<node>/, node_checks.CannedBackend),
which is what the `_on_canned_` test names say. The real paths are node_checks.local_host() (testinfra's
local backend on this host: run below, where every device check skips with its reason) and
node_checks.NodeDebugBackend (a privileged debug pod on a cluster node: `dynamo-conformance --kubeconfig K
--node NAME`; below over a stand-in for the API that replays the canned outputs).
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from dynamo_harness.conformance import node_checks
from dynamo_harness.kube_api import KubeApiError
from dynamo_harness.results import Status

NODES = Path(__file__).parent / "nodes"


def statuses(node_dir: str, **expect) -> dict[str, Status]:
    results = node_checks.all_checks(node_checks.canned_host(NODES / node_dir), **expect)
    return {r.name: r.status for r in results}


def test_h100_infiniband_node_passes_every_rdma_check_on_canned_outputs():
    got = statuses("h100-ib", expect_rdma=True)
    assert got == {"gpu/visible": Status.PASS, "rdma/devices": Status.PASS, "rdma/ports-active": Status.PASS,
                   "rdma/peermem": Status.PASS, "efa/provider": Status.SKIP, "ucx/transports": Status.PASS}


def test_eks_efa_node_passes_efa_and_dma_buf_checks_on_canned_outputs():
    results = {r.name: r for r in node_checks.all_checks(node_checks.canned_host(NODES / "eks-efa"), expect_efa=True)}
    assert results["efa/provider"].status is Status.PASS
    assert results["efa/provider"].figures == {"domains": 2}
    assert results["rdma/peermem"].status is Status.PASS and "DMA-BUF" in results["rdma/peermem"].reason
    assert results["gpu/visible"].figures == {"gpus": 3}
    # UCX sees no RDMA transport on EFA: not a failure unless RDMA over verbs is expected.
    assert results["ucx/transports"].status is Status.SKIP


def test_cpu_node_skips_every_device_check_with_a_reason_on_canned_outputs():
    results = node_checks.all_checks(node_checks.canned_host(NODES / "cpu-only"))
    assert {r.status for r in results} == {Status.SKIP}
    assert all(r.reason for r in results)


def test_a_port_down_fails_naming_the_port_state_on_canned_outputs():
    results = {r.name: r for r in node_checks.all_checks(node_checks.canned_host(NODES / "ib-port-down"), expect_rdma=True)}
    assert results["rdma/ports-active"].status is Status.FAIL
    assert "1/2 port(s) not active: ['PORT_DOWN']" in results["rdma/ports-active"].reason


def test_old_kernel_without_peermem_fails_on_canned_outputs():
    results = {r.name: r for r in node_checks.all_checks(node_checks.canned_host(NODES / "old-kernel-no-peermem"), expect_rdma=True)}
    assert results["rdma/peermem"].status is Status.FAIL
    assert "5.4.0" in results["rdma/peermem"].reason


def test_expected_rdma_on_a_cpu_node_fails_instead_of_skipping_on_canned_outputs():
    got = statuses("cpu-only", expect_rdma=True, expect_efa=True)
    assert got["rdma/devices"] is Status.FAIL and got["efa/provider"] is Status.FAIL


def test_checks_on_this_host_report_each_device_as_present_or_skipped(host):
    """`host` is pytest-testinfra's fixture: this host, with no --hosts."""
    results = node_checks.all_checks(host)
    assert len(results) == 6
    for result in results:
        assert result.status in (Status.PASS, Status.SKIP), f"{result.name}: {result.reason}"
        if result.status is Status.SKIP:
            assert result.reason


@pytest.mark.parametrize("node_dir", sorted(p.name for p in NODES.iterdir()))
def test_every_check_reports_a_reason_or_figures(node_dir):
    for result in node_checks.all_checks(node_checks.canned_host(NODES / node_dir)):
        assert result.reason or result.figures, result.name


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this host has nvidia-smi")
def test_this_host_without_a_driver_reports_no_gpu_through_testinfras_local_backend():
    host = node_checks.local_host()
    assert host.backend.get_connection_type() == "local"
    assert host.run("echo out; echo err >&2; exit 3").rc == 3  # a real shell, stdout and stderr apart
    (gpu,) = [r for r in node_checks.all_checks(host) if r.name == "gpu/visible"]
    assert (gpu.status, gpu.reason) == (Status.SKIP, "nvidia-smi not found: no NVIDIA driver on this node")


def test_a_hung_local_command_is_stopped_at_the_limit_as_before_testinfra():
    with pytest.raises(subprocess.TimeoutExpired):  # the check reports it as a failure (results.timed)
        node_checks.local_host(timeout=0.5).run("sleep 5")


class CannedApi:
    """Stands in for KubeApi.run_pod: answers each debug pod from a canned node, recording the pods."""

    def __init__(self, node_dir: Path, refuse: KubeApiError | None = None):
        self.canned, self.refuse, self.pods = node_checks.canned_host(node_dir), refuse, []

    def run_pod(self, pod: dict, timeout: float = 120) -> tuple[int, str]:
        self.pods.append(pod)
        if self.refuse:
            raise self.refuse
        out = self.canned.run(pod["spec"]["containers"][0]["command"][-1])
        return out.rc, out.stdout + out.stderr


def test_a_cluster_node_runs_each_command_in_one_debug_pod_on_canned_outputs():
    api = CannedApi(NODES / "h100-ib")
    results = node_checks.all_checks(node_checks.node_debug_host(api, "gpu-node-1"), expect_rdma=True)
    assert {r.name: r.status for r in results} == statuses("h100-ib", expect_rdma=True)
    commands = [p["spec"]["containers"][0]["command"] for p in api.pods]
    assert commands[0] == ["chroot", "/host", "sh", "-c", "ls /dev/infiniband"]
    assert {c[-1] for c in commands} == {"ls /dev/infiniband", "fi_info -p efa", "nvidia-smi -L", "ibv_devinfo",
                                         "lsmod", "ucx_info -d"}  # no extra pods: lsmod finds peermem, no uname


def test_an_api_refusal_on_a_cluster_node_fails_the_check_quoting_the_api():
    refusal = KubeApiError("Forbidden", 'pods is forbidden: User "ci" cannot create resource "pods"', 403)
    host = node_checks.node_debug_host(CannedApi(NODES / "h100-ib", refuse=refusal), "gpu-node-1")
    out = host.run("nvidia-smi -L")
    assert (out.rc, out.stdout, out.stderr) == (1, "", refusal.stderr)
    (efa,) = [r for r in node_checks.all_checks(host, expect_efa=True) if r.name == "efa/provider"]
    assert efa.status is Status.FAIL and "cannot create resource" in efa.reason
