"""The pieces `make bench` measures with, checked for correctness (never for speed): the instant
server and the probe's ceiling run, the frontend-metrics referee, and aiperf's export mapping."""

import os

from dynamo_harness.bench import aiperf
from dynamo_harness.bench.__main__ import ALL_CPUS, probe_ceiling, probe_run, server_counters, server_means
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
