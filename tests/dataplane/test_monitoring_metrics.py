"""Every metric the chart's dashboards and alert rules query is one the real components export.

Sources, by metric family:
- dynamo_frontend_*: the running Dynamo frontend's /metrics, after real requests (one success, one
  unknown model) so its histograms and error series exist;
- etcd_*: the running etcd's /metrics;
- gnatsd_varz_<field>: nats-server serves JSON, not Prometheus text; prometheus-nats-exporter (the
  chart's sidecar) names each numeric /varz field gnatsd_varz_<field>, so <field> must be a number
  in the running nats-server's /varz;
- dynamo_operator_*: no operator runs here; the written list below is upstream's Operator Metrics
  guide (docs.nvidia.com/dynamo, "Operator Metrics", seed 004);
- up: the series Prometheus itself writes for every scrape target.
"""

import json
import re

import pytest
import requests

from dynamo_harness.dataplane import MODEL

from support import promql

OPERATOR_METRICS = {  # upstream "Operator Metrics" guide, reconciliation and webhook tables
    "dynamo_operator_reconcile_duration_seconds_bucket", "dynamo_operator_reconcile_duration_seconds_sum",
    "dynamo_operator_reconcile_duration_seconds_count", "dynamo_operator_reconcile_total",
    "dynamo_operator_reconcile_errors_total", "dynamo_operator_webhook_duration_seconds_bucket",
    "dynamo_operator_webhook_duration_seconds_sum", "dynamo_operator_webhook_duration_seconds_count",
    "dynamo_operator_webhook_requests_total",
}
PROMETHEUS_SERIES = {"up"}
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]")


def fetch(url: str, payload: dict | None = None) -> str:
    """The body, whatever the status: the unknown-model request answers 404 on purpose."""
    if payload is None:
        return requests.get(url, timeout=30).text
    return requests.post(url, json=payload, timeout=30).text


def exported(text: str) -> set[str]:
    return {m[1] for line in text.splitlines() if (m := SAMPLE.match(line))}


@pytest.fixture(scope="module")
def queried_metrics(helm) -> dict[str, set[str]]:
    """metric -> where it is queried, over every rule and dashboard the chart renders with everything on."""
    manifests = helm.template(values={"global.monitoring.enabled": True}, api_versions=["monitoring.coreos.com/v1"])
    queries = promql.rule_queries(manifests)
    for name, dashboard in promql.dashboards(manifests).items():
        queries += promql.dashboard_queries(name, dashboard)
    found: dict[str, set[str]] = {}
    for parsed in promql.parse(queries):
        assert not parsed.error, f"{parsed.query.where}: {parsed.error}"
        for metric in parsed.metrics:
            found.setdefault(metric, set()).add(parsed.query.where)
    return found


@pytest.fixture(scope="module")
def live(plane) -> dict[str, set[str]]:
    fetch(f"{plane.frontend_url}/v1/chat/completions",
          {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
    fetch(f"{plane.frontend_url}/v1/chat/completions",
          {"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
    varz = json.loads(fetch(f"{plane.nats_monitor_url}/varz"))
    frontend = fetch(f"{plane.frontend_url}/metrics")
    return {
        "frontend-text": frontend,
        "dynamo_frontend_": exported(frontend),
        "etcd_": exported(fetch(f"{plane.etcd_url}/metrics")),
        "gnatsd_varz_": {f"gnatsd_varz_{k}" for k, v in varz.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
    }


def test_every_queried_metric_is_exported_by_a_real_component(queried_metrics, live):
    missing = {}
    for metric, where in queried_metrics.items():
        if metric in PROMETHEUS_SERIES or metric in OPERATOR_METRICS:
            continue
        source = next((names for prefix, names in live.items() if prefix.endswith("_") and metric.startswith(prefix)), None)
        if source is None or metric not in source:
            missing[metric] = sorted(where)
    assert not missing


def test_the_queries_cover_every_component(queried_metrics):
    """Guards the test above against passing on an empty set: each source is queried."""
    prefixes = ("dynamo_frontend_", "etcd_", "gnatsd_varz_", "dynamo_operator_", "up")
    assert all(any(m.startswith(p) for m in queried_metrics) for p in prefixes)


def test_frontend_exports_the_error_and_ttft_series_the_alerts_need(live):
    assert {"dynamo_frontend_requests_total", "dynamo_frontend_time_to_first_token_seconds_bucket"} <= live["dynamo_frontend_"]
    # The error-rate alert selects status="error" and groups by model: the failed request's series has both.
    errors = [line for line in live["frontend-text"].splitlines()
              if line.startswith("dynamo_frontend_requests_total{") and 'status="error"' in line]
    assert errors and all('model="' in line for line in errors)
