"""GPU and RDMA node checks.

This machine has no GPU, InfiniBand or EFA device, so the checks are exercised on canned
command outputs shaped like real nodes (tests/conformance/nodes/<node>/), which is what the
`_on_canned_` test names say. The real paths are node_checks.local_runner (this host: run below, where
every device check skips with its reason) and node_checks.NodeDebugRunner (a privileged debug pod on a
cluster node: `dynamo-conformance --kubeconfig K --node NAME`).
"""

from pathlib import Path

import pytest

from dynamo_harness.conformance import node_checks
from dynamo_harness.results import Status

NODES = Path(__file__).parent / "nodes"


def statuses(node_dir: str, **expect) -> dict[str, Status]:
    results = node_checks.all_checks(node_checks.CannedRunner(NODES / node_dir), **expect)
    return {r.name: r.status for r in results}


def test_h100_infiniband_node_passes_every_rdma_check_on_canned_outputs():
    got = statuses("h100-ib", expect_rdma=True)
    assert got == {"gpu/visible": Status.PASS, "rdma/devices": Status.PASS, "rdma/ports-active": Status.PASS,
                   "rdma/peermem": Status.PASS, "efa/provider": Status.SKIP, "ucx/transports": Status.PASS}


def test_eks_efa_node_passes_efa_and_dma_buf_checks_on_canned_outputs():
    results = {r.name: r for r in node_checks.all_checks(node_checks.CannedRunner(NODES / "eks-efa"), expect_efa=True)}
    assert results["efa/provider"].status is Status.PASS
    assert results["efa/provider"].figures == {"domains": 2}
    assert results["rdma/peermem"].status is Status.PASS and "DMA-BUF" in results["rdma/peermem"].reason
    assert results["gpu/visible"].figures == {"gpus": 3}
    # UCX sees no RDMA transport on EFA: not a failure unless RDMA over verbs is expected.
    assert results["ucx/transports"].status is Status.SKIP


def test_cpu_node_skips_every_device_check_with_a_reason_on_canned_outputs():
    results = node_checks.all_checks(node_checks.CannedRunner(NODES / "cpu-only"))
    assert {r.status for r in results} == {Status.SKIP}
    assert all(r.reason for r in results)


def test_a_port_down_fails_naming_the_port_state_on_canned_outputs():
    results = {r.name: r for r in node_checks.all_checks(node_checks.CannedRunner(NODES / "ib-port-down"), expect_rdma=True)}
    assert results["rdma/ports-active"].status is Status.FAIL
    assert "1/2 port(s) not active: ['PORT_DOWN']" in results["rdma/ports-active"].reason


def test_old_kernel_without_peermem_fails_on_canned_outputs():
    results = {r.name: r for r in node_checks.all_checks(node_checks.CannedRunner(NODES / "old-kernel-no-peermem"), expect_rdma=True)}
    assert results["rdma/peermem"].status is Status.FAIL
    assert "5.4.0" in results["rdma/peermem"].reason


def test_expected_rdma_on_a_cpu_node_fails_instead_of_skipping_on_canned_outputs():
    got = statuses("cpu-only", expect_rdma=True, expect_efa=True)
    assert got["rdma/devices"] is Status.FAIL and got["efa/provider"] is Status.FAIL


def test_checks_on_this_host_report_each_device_as_present_or_skipped():
    results = node_checks.all_checks(node_checks.local_runner)
    assert len(results) == 6
    for result in results:
        assert result.status in (Status.PASS, Status.SKIP), f"{result.name}: {result.reason}"
        if result.status is Status.SKIP:
            assert result.reason


@pytest.mark.parametrize("node_dir", sorted(p.name for p in NODES.iterdir()))
def test_every_check_reports_a_reason_or_figures(node_dir):
    for result in node_checks.all_checks(node_checks.CannedRunner(NODES / node_dir)):
        assert result.reason or result.figures, result.name
