"""Restarting etcd or NATS while the frontend serves: every request is accounted for, and the
probe reports the recovery time (figures printed; no timing is asserted)."""

import pytest

from dynamo_harness.conformance.faults import restart_while_serving
from dynamo_harness.conformance.result import Status
from dynamo_harness.dataplane import MODEL


@pytest.mark.parametrize("component", ["etcd", "nats"])
def test_restart_while_serving_loses_no_request_and_recovers(healed, component):
    result, run = restart_while_serving(component, healed.frontend_url, MODEL, lambda: healed.restart(component),
                                        concurrency=4, max_seconds=60)
    print(f"{result.name}: {result.reason} {result.figures}")
    assert result.status is Status.PASS, result.reason
    figures = result.figures
    assert figures["unaccounted"] == 0 and figures["requests"] == figures["completed"] + figures["errors"]
    assert figures["in_flight_at_fault"] > 0, "the fault hit an idle frontend: the probe measured nothing"
    assert all(s.error for s in run.samples if not s.ok), "a failed request carries no recorded error"
    assert run.fault_at < run.recovered_at


def test_a_fault_that_never_heals_is_reported_as_not_recovered(healed):
    result, run = restart_while_serving("worker", healed.frontend_url, MODEL, lambda: healed.kill("worker"),
                                        concurrency=2, max_seconds=5)
    assert result.status is Status.FAIL and "consecutive successes" in result.reason
    assert result.figures["errors"] > 0 and result.figures["unaccounted"] == 0
