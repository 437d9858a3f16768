"""The probe registry runs exactly the probes whose targets are given, in order, and the report
views say plainly when every request failed."""

import pytest

from dynamo_harness.conformance import report, suite
from dynamo_harness.results import ProbeResult, Status, failed, passed, timed


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test, so real probes (which dial endpoints) never run here."""
    monkeypatch.setattr(suite, "PROBES", [])
    return suite


def test_a_probe_runs_only_when_every_target_it_needs_is_given(registry):
    @registry.probe("etcd")
    def etcd_only(t, plan):
        return [timed("a/etcd", lambda: passed(t.etcd))]

    @registry.probe("etcd", "nats")
    def both(t, plan):
        return [timed("b/both", passed)]

    assert [r.name for r in registry.run(suite.Targets(etcd="http://e"), suite.LoadPlan())] == ["a/etcd"]
    ran = registry.run(suite.Targets(etcd="http://e", nats="nats://n"), suite.LoadPlan())
    assert [(r.name, r.reason) for r in ran] == [("a/etcd", "http://e"), ("b/both", "")]


def test_results_reach_the_caller_as_each_probe_finishes(registry):
    seen = []

    @registry.probe("etcd")
    def two(t, plan):
        yield timed("a/first", passed)
        assert seen == ["a/first"], "the first result was not reported before the second ran"
        yield timed("a/second", lambda: failed("broken"))

    results = registry.run(suite.Targets(etcd="x"), suite.LoadPlan(), lambda r: seen.append(r.name))
    assert [r.status for r in results] == [Status.PASS, Status.FAIL]


def test_a_probe_that_needs_an_unknown_target_is_refused_when_registered(registry):
    with pytest.raises(ValueError, match="unknown targets \\['etcd_url'\\]"):
        registry.probe("etcd_url")


def test_a_check_that_raises_becomes_a_failure_under_its_name():
    result = timed("x/boom", lambda: 1 / 0)
    assert (result.name, result.status, result.reason) == ("x/boom", Status.FAIL, "ZeroDivisionError: division by zero")


def test_every_registered_probe_needs_only_real_targets_and_has_a_unique_name():
    names = [p.name for p in suite.PROBES]
    assert len(names) == len(set(names)) and {"etcd", "nats", "frontend", "load", "node_devices"} <= set(names)


def test_the_cli_offers_every_target_that_has_help():
    assert {name for name, _ in suite.Targets.options()} >= {"frontend", "model", "etcd", "nats", "kubeconfig"}


def failed_load(concurrency):
    figures = {"concurrency": concurrency, "requests": 4, "errors": 4, "wall_s": 1.0, "requests_per_s": 0.0,
               "output_tokens_per_s": 0.0}
    figures.update({f"{key}_p{q}": None for key in ("ttft_ms", "itl_ms", "latency_ms") for q in (50, 90, 99)})
    return ProbeResult(f"inference/load-c{concurrency}", Status.FAIL, "4/4 requests failed", figures)


def test_when_every_request_failed_the_views_say_so_instead_of_none():
    results = [failed_load(1)]
    markdown = report.markdown(results, "t")
    assert "None" not in markdown and markdown.count(report.NO_SUCCESS) == 3
    plot = report.svg_plot(results)
    assert report.NO_SUCCESS in plot and "<rect" not in plot


def test_the_latency_plot_has_a_ticked_y_axis_up_to_the_largest_value():
    ok = failed_load(8)
    ok.figures.update({"ttft_ms_p50": 40.0, "ttft_ms_p99": 61.0, "latency_ms_p50": 180.0, "latency_ms_p99": 230.0})
    plot = report.svg_plot([ok])
    labels = [part.split(">")[1].split("<")[0] for part in plot.split("<text")[1:] if 'text-anchor="end"' in part]
    assert labels == ["0", "100", "200", "300"]


def test_the_report_header_names_chart_and_dynamo_versions():
    header = report.run_header()
    assert header["chart"].startswith("dynamo-platform ") and header["Dynamo"] and header["date"].endswith("UTC")
    assert "# t\n\n- date: " in report.markdown([], "t", header)
