"""The line a fault verdict quotes from a component's log, and the advice a known cause gets
(log lines as the in-cluster frontend printed them, issue 18)."""

from dynamo_harness.dataplane import WINDOWS, Fault, advice, explaining_line

FRONTEND_LOG = [
    "\x1b[2m2026-12-06T10:01:02Z\x1b[0m  INFO dynamo_llm::http::service: Starting HTTP service on 0.0.0.0:8000",
    "2026-12-06T10:02:11Z ERROR etcd::lease: Unable to maintain lease. Check etcd server status "
    "error=Unable to reconnect to ETCD cluster: deadline exceeded",
    "2026-12-06T10:02:11Z  INFO dynamo_runtime: Runtime shutdown initiated",
    "",
]


def test_a_known_cause_is_quoted_even_when_later_lines_follow():
    line = explaining_line(FRONTEND_LOG)
    assert line.startswith("2026-12-06T10:02:11Z ERROR etcd::lease: Unable to maintain lease")
    assert advice(line).startswith("Dynamo exits on lease loss when the only etcd member is down longer than the lease")
    assert advice(line).endswith("run HA etcd (3 members) or Kubernetes discovery")


def test_without_a_known_cause_the_last_error_line_else_the_last_line_is_quoted():
    assert explaining_line(["starting", "ERROR could not bind port", "shutting down"]) == "ERROR could not bind port"
    assert explaining_line(["starting", "\x1b[1mshutting down\x1b[0m", "  "]) == "shutting down"
    assert explaining_line([]) == "" and advice("shutting down") == ""


def test_every_component_has_a_window_that_says_where_its_number_comes_from():
    for component, window in WINDOWS.items():
        fault = Fault.watched(component, "restart", lambda: None)
        assert fault.name == f"faults/{component}-restart" and fault.window_s == window.seconds > 0
        assert "ai-dynamo/dynamo" in window.reason or "nats.rs" in window.reason, component
