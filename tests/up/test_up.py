"""`make up` run twice in a row on one cluster with the real node: the second run keeps only what it
checked is alive (the cluster's components, the release, the data plane's pods) and passes, after
the first run's fault probes replaced pods. A second `make up` used to fail on port-forwards bound
to replaced pods; the probes now dial Services.

Each run's fault probes kill the frontend and the worker pod under load (Kubernetes discovery, the
default wiring): their verdicts are checked here too, so no other test repeats those faults on the
real node.

It brings up a cluster of its own (state dir .cache/local-cluster-up-test), so it runs after the
install tests on the real node have released it (`make test` runs this layer after them, in the
same stream), and skips, naming why, where the real node cannot run or another cluster holds it.
"""

from __future__ import annotations

import pytest

from dynamo_harness import up
from dynamo_harness.clusters.local import LocalCluster
from dynamo_harness.paths import ROOT
from dynamo_harness.results import ProbeResult

RUNS = ("first", "second")


@pytest.fixture(scope="module")
def cluster():
    cluster = LocalCluster(state_dir=ROOT / ".cache" / "local-cluster-up-test")
    if reason := cluster.unavailable() or cluster.node.unavailable():
        pytest.skip(f"`make up` needs the real node here: {reason}")
    yield cluster
    up.down(cluster)


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory) -> dict[str, list[ProbeResult]]:
    """Both runs' results, by run; a run's report is printed where it failed."""
    reports = tmp_path_factory.mktemp("up")
    found = {}
    for run in RUNS:
        found[run] = up.up(cluster=cluster, reports=reports / run, fault_repetitions=1)
        assert all(r.ok for r in found[run]), (reports / run / "up.md").read_text()
    return found


def test_up_passes_twice_in_a_row_on_one_cluster(cluster, runs):
    assert cluster.real_node, cluster.node_mode
    reasons = {r.name: r.reason for r in runs["second"]}
    assert reasons["up/local-cluster"].startswith("reused (its components answered)"), reasons["up/local-cluster"]
    assert reasons["up/data-plane"].startswith("checked and kept"), reasons["up/data-plane"]


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("component", ["frontend", "worker"])
def test_a_killed_data_plane_pod_is_replaced_and_the_verdict_accounts_for_every_request(runs, run, component):
    """The pod killed under load, its replacement found through its EndpointSlice; the window is the
    readiness probe's, and every request sent is counted as completed or as an error in its window."""
    (result,) = [r for r in runs[run] if r.name == f"faults/{component}-kill"]
    figures = result.figures
    assert "readiness" in figures["window_reason"], figures
    assert figures["repetitions"] == 1 and figures["recovery_s"][0] > 0, figures
    assert figures["unaccounted"] == 0 and figures["requests"] == figures["completed"] + figures["errors"], figures
    assert figures["errors_outside_windows"] == 0, figures
