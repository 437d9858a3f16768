"""The pieces `make bench` measures with, checked for correctness (never for speed): the instant
server and the probe's ceiling run, the frontend-metrics referee, and aiperf's export mapping."""

import os

from dynamo_harness.bench import aiperf
from dynamo_harness.bench.__main__ import (ALL_CPUS, kind_budget_rows, probe_ceiling, probe_run, server_counters,
                                           server_means)
from dynamo_harness.dataplane import MODEL


def test_probe_ceiling_completes_every_request_against_the_instant_server():
    ceiling = probe_ceiling(requests=200, concurrency=8)
    assert ceiling["requests"] == 200 and ceiling["requests_per_s"] > 0 and ceiling["cpu_ms_per_request"] > 0
    assert sorted(os.sched_getaffinity(0)) == ALL_CPUS, "the bench left this process pinned"


def test_server_referee_counts_exactly_the_requests_the_probe_sent(plane):
    before = server_counters(plane.frontend_url)
    figures, _ = probe_run(plane.frontend_url, MODEL, 2, 6)
    after = server_counters(plane.frontend_url)
    assert after["dynamo_frontend_request_duration_seconds_count"] - before["dynamo_frontend_request_duration_seconds_count"] == 6
    means = server_means(before, after)
    assert set(means) == {"ttft_ms_mean", "latency_ms_mean", "itl_ms_mean"} and figures["errors"] == 0
    assert 0 < means["ttft_ms_mean"] < means["latency_ms_mean"]


def test_aiperf_export_maps_onto_the_probe_figure_names():
    def metric(p50, p90, p99, avg):
        return {"p50": p50, "p90": p90, "p99": p99, "avg": avg}

    export = {"request_count": {"avg": 64.0}, "error_summary": [{"count": 2}],
              "output_token_throughput": {"avg": 986.47}, "request_throughput": {"avg": 30.827},
              "time_to_first_token": metric(57.7, 77.7, 96.4, 61.7), "inter_token_latency": metric(6.0, 6.6, 6.9, 5.95),
              "request_latency": metric(244.5, 268.8, 277.7, 246.2)}
    figures = aiperf.figures(export, concurrency=8)
    assert figures["requests"] == 64 and figures["errors"] == 2 and figures["concurrency"] == 8
    assert figures["ttft_ms_p90"] == 77.7 and figures["latency_ms_p50"] == 244.5 and figures["itl_ms_mean"] == 5.95
    assert figures["output_tokens_per_s"] == 986.5 and figures["requests_per_s"] == 30.83


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="5" time="{wall}">
{cases}
</testsuite></testsuites>
"""


def write_junit(path, wall: float, *cases: tuple[str, str, float, str]) -> None:
    """cases: (classname, name, time, outcome: "" passed, "skipped", "failure" or "error")."""
    rows = [f'<testcase classname="{c}" name="{n}" time="{t}">' + (f'<{o} message="x"/>' if o else "") + "</testcase>"
            for c, n, t, o in cases]
    path.write_text(JUNIT.format(wall=wall, cases="\n".join(rows)))


def test_bench_sums_test_time_per_layer_against_the_budget(tmp_path):
    from dynamo_harness.bench.__main__ import TEST_BUDGET_S, markdown, tests_section

    write_junit(tmp_path / "junit.xml", 120.5,
                ("tests.template.test_render", "test_a[kind]", 1.5, ""),
                ("tests.template.test_render", "test_a[gke]", 0.5, ""),
                ("tests.install.test_install.TestUpgrade", "test_b", 100.25, ""),
                ("tests.install.test_lifecycle", "test_c", 0.0, "skipped"),
                ("tests.dataplane.test_probes", "test_d", 18.0, "failure"))
    write_junit(tmp_path / "junit-up.xml", 95.0, ("tests.up.test_up", "test_up_twice", 94.0, ""))
    write_junit(tmp_path / "junit-helm3.xml", 20.0, ("tests.template.test_bad_values", "test_e", 30.0, ""),
                ("tests.template.test_render", "test_f", 12.0, "error"))
    write_junit(tmp_path / "junit-real-node.xml", 60.0, ("tests.install.test_real_node", "test_g", 58.0, ""))
    section = tests_section(tmp_path)

    assert TEST_BUDGET_S == 540 and section["budget_s"] == 540 and section["absent"] == []
    layers = section["layers"]
    assert list(layers) == ["template", "install", "dataplane", "template (Helm 3)", "install (real node)", "up"]
    assert layers["template"] == {"tests": 2, "skipped": 0, "failed": 0, "seconds": 2.0, "budget_share": round(2 / 540, 4)}
    assert layers["install"] == {"tests": 2, "skipped": 1, "failed": 0, "seconds": 100.25,
                                 "budget_share": round(100.25 / 540, 4)}
    assert layers["dataplane"]["failed"] == 1 and layers["up"]["seconds"] == 94.0
    assert layers["template (Helm 3)"] == {"tests": 2, "skipped": 0, "failed": 1, "seconds": 42.0,
                                           "budget_share": round(42 / 540, 4)}
    assert layers["install (real node)"]["seconds"] == 58.0
    # The total is the longer stream's wall time: the real node's 60 + 95 s, beside 120.5 + 20 s (the
    # Helm 3 pass ran in parallel workers: 20 s, not 42 s).
    assert section["total_s"] == 155.0 and section["budget_share"] == round(155 / 540, 4)
    table = markdown({"machine": "m", "tests": section})
    assert "| install | 2 | 1 | 0 | 100.2 | 0.186 |" in table
    assert "| total: wall time of the longer stream of pytest runs (lint not included) | | | | 155.0 | 0.287 |" in table


def test_bench_tests_section_names_the_command_when_no_junit_file_is_there(tmp_path):
    from dynamo_harness.bench.__main__ import markdown, tests_section

    section = tests_section(tmp_path)
    assert set(section) == {"missing"}
    assert str(tmp_path / "junit.xml") in section["missing"] and ".ci/run" in section["missing"]
    assert '--junitxml=reports/junit.xml' in markdown({"machine": "m", "tests": section})
    write_junit(tmp_path / "junit.xml", 3.0, ("tests.template.test_render", "test_a", 2.5, ""))
    assert tests_section(tmp_path)["absent"] == ["junit-helm3.xml", "junit-real-node.xml", "junit-up.xml"]


def test_kind_budgets_name_a_cold_image_build_the_create_goal_and_each_overlays_last_ha_run():
    kind = {"timings": {"node_image": {"how": "built", "s": 412.0}, "create_to_ready_s": 61.5, "chart_images_s": 20.1},
            "ha_runs": {"gke": {"install_s": 48.2, "recovery_s": {"drain": 12.3, "two_of_three": None}, "written": 0}}}
    rows = kind_budget_rows(kind)
    assert "| kind node image | 412.0 | cold: built from pinned sources |" in rows
    assert "| `kind create cluster` to every node Ready | 61.5 | goal under 90 s warm on 2 cores |" in rows
    assert "| gke: install to ready | 48.2 | last HA run, 1970-01-01 00:00 UTC |" in rows
    assert "| gke: drain recovery | 12.3 | after the repair |" in rows and "| gke: two_of_three recovery | - | after the repair |" in rows
    assert any("a kept cluster was found" in row for row in kind_budget_rows({"timings": {}, "ha_runs": {}}))
