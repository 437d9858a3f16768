"""`make up` run twice in a row on one cluster with the real node: the second run keeps only what it
checked is alive (the cluster's components, the release, the data plane's pods) and passes, after
the first run's fault probes replaced pods. A second `make up` used to fail on port-forwards bound
to replaced pods; the probes now dial Services.

It brings up a cluster of its own (state dir .cache/local-cluster-up-test), so it runs after the
install tests on the real node have released it (`make test` runs this layer after them, in the
same stream), and skips, naming why, where the real node cannot run or another cluster holds it.
"""

from __future__ import annotations

import pytest

from dynamo_harness import up
from dynamo_harness.clusters.local import LocalCluster
from dynamo_harness.paths import ROOT


@pytest.fixture(scope="module")
def cluster():
    cluster = LocalCluster(state_dir=ROOT / ".cache" / "local-cluster-up-test")
    if reason := cluster.unavailable() or cluster.node.unavailable():
        pytest.skip(f"`make up` needs the real node here: {reason}")
    yield cluster
    up.down(cluster)


def test_up_passes_twice_in_a_row_on_one_cluster(cluster, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert up.up(cluster=cluster, reports=first, fault_repetitions=1) == 0, (first / "up.md").read_text()
    assert cluster.real_node, cluster.node_mode
    assert up.up(cluster=cluster, reports=second, fault_repetitions=1) == 0, (second / "up.md").read_text()
    report = (second / "up.md").read_text()
    assert "reused (its components answered)" in report and "checked and kept" in report, report
