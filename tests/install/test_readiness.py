"""One readiness predicate (kube.rollout_state) for every workload kind the chart renders."""

import pytest

from dynamo_harness.conformance import health
from dynamo_harness.results import Status
from dynamo_harness.kube import rollout_state


def deployment(generation=2, observed=2, replicas=3, **status):
    counts = {"updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3, **status}
    return {"kind": "Deployment", "metadata": {"generation": generation}, "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, **counts}}


def test_a_workload_whose_every_replica_is_updated_ready_and_available_has_rolled_out():
    assert rollout_state(deployment()) == (True, "3/3 ready, 3 updated, 3 available")


@pytest.mark.parametrize(("workload", "why"), [
    (deployment(observed=1), "latest generation not observed yet"),
    (deployment(updatedReplicas=2), "2 updated"),
    (deployment(readyReplicas=2), "2/3 ready"),
    (deployment(availableReplicas=1), "1 available"),
], ids=["old-generation", "not-updated", "not-ready", "not-available"])
def test_a_workload_short_of_any_count_has_not_rolled_out(workload, why):
    ok, detail = rollout_state(workload)
    assert not ok and why in detail


def test_a_daemonset_is_judged_by_its_scheduled_counts():
    daemonset = {"kind": "DaemonSet", "metadata": {"generation": 1}, "spec": {},
                 "status": {"observedGeneration": 1, "desiredNumberScheduled": 4, "updatedNumberScheduled": 4,
                            "numberReady": 3, "numberAvailable": 3}}
    assert rollout_state(daemonset) == (False, "3/4 ready, 4 updated, 3 available")


def test_the_session_platform_release_has_rolled_out(platform):
    assert platform.workloads() and platform.not_rolled_out() == []


def test_workload_probe_reports_each_rollout_and_says_the_pods_are_simulated(kube_api, platform):
    results = health.workloads_rolled_out(kube_api, platform.namespace)
    names = {r.name for r in results}
    assert "platform/Deployment dynamo-platform-dynamo-operator" in names, names
    assert all(r.status is Status.PASS for r in results), [(r.name, r.reason) for r in results]
    # The session's release has the default values: none of its pods tolerates the real node.
    assert all(r.reason.endswith("simulated (kwok): no container runs") for r in results), [r.reason for r in results]


def test_workload_probe_fails_for_a_namespace_without_workloads(kube_api, schema_only_namespace):
    (result,) = health.workloads_rolled_out(kube_api, schema_only_namespace)
    assert result.status is Status.FAIL and schema_only_namespace in result.reason
