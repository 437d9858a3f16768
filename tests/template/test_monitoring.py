"""Monitoring (global.monitoring.enabled): PodMonitors, the operator's ServiceMonitor, alert rules and
Grafana dashboards render only when switched on and where the prometheus-operator API is served,
select the pods the chart and the Dynamo operator actually create, and hold PromQL that parses."""

import pytest

from dynamo_harness.helm import ETCD_AND_NATS, HelmError
from dynamo_harness.manifests import by_kind, named, pod_specs

from support import promql

MONITORING_API = "monitoring.coreos.com/v1"
# With the bundled etcd and NATS, so their monitors, alerts and exporter sidecar render too.
ON = {**ETCD_AND_NATS, "global.monitoring.enabled": True}
MONITORING_KINDS = ("PodMonitor", "ServiceMonitor", "PrometheusRule")


def monitoring_objects(manifests):
    return [m for m in manifests if m["apiVersion"].startswith("monitoring.coreos.com/")]


@pytest.fixture
def on(render):
    return lambda values=None: render(values={**ON, **(values or {})}, api_versions=[MONITORING_API])


def exporter_containers(manifests):
    return [c for p in pod_specs(manifests) for c in p.containers() if c["name"] == "metrics-exporter"]


@pytest.mark.parametrize("values", [{}, ETCD_AND_NATS], ids=["defaults", "etcd-and-nats"])
def test_monitoring_is_off_by_default_even_where_the_api_is_served(render, values):
    manifests = render(values=values, api_versions=[MONITORING_API])
    assert not monitoring_objects(manifests)
    assert not exporter_containers(manifests)
    assert not promql.dashboards(manifests)


def test_monitoring_renders_nothing_where_the_prometheus_operator_crds_are_absent(render):
    manifests = render(values=ON)
    assert not monitoring_objects(manifests)
    assert not exporter_containers(manifests)
    assert not promql.dashboards(manifests)


def test_monitoring_on_renders_a_monitor_per_component_rules_and_dashboards(on):
    manifests = on()
    assert sorted(m["metadata"]["name"] for m in by_kind(manifests, "PodMonitor")) == [
        "dynamo-platform-dynamo-frontend", "dynamo-platform-dynamo-workers", "dynamo-platform-etcd", "dynamo-platform-nats"]
    assert [m["metadata"]["name"] for m in by_kind(manifests, "ServiceMonitor")] == ["dynamo-platform-dynamo-operator"]
    assert len(by_kind(manifests, "PrometheusRule")) == 1
    assert sorted(promql.dashboards(manifests)) == ["dynamo-inference.json", "dynamo-platform.json"]


def test_workload_monitors_select_the_labels_the_operator_puts_on_dgd_pods(on):
    manifests = on()
    frontend = named(manifests, "PodMonitor", "dynamo-platform-dynamo-frontend")["spec"]
    assert frontend["selector"]["matchLabels"] == {"nvidia.com/dynamo-component-type": "frontend", "nvidia.com/metrics-enabled": "true"}
    assert [e["port"] for e in frontend["podMetricsEndpoints"]] == ["http"]
    workers = named(manifests, "PodMonitor", "dynamo-platform-dynamo-workers")["spec"]
    types = next(e for e in workers["selector"]["matchExpressions"] if e["key"] == "nvidia.com/dynamo-component-type")
    assert types["values"] == ["worker", "prefill", "decode"]
    assert [e["port"] for e in workers["podMetricsEndpoints"]] == ["system"]
    assert frontend["namespaceSelector"] == workers["namespaceSelector"] == {"any": True}


def test_workload_namespaces_limit_where_dynamo_pods_are_scraped(on):
    manifests = on({"monitoring.podMonitors.workloadNamespaces": ["team-a"]})
    for name in ("dynamo-platform-dynamo-frontend", "dynamo-platform-dynamo-workers"):
        assert named(manifests, "PodMonitor", name)["spec"]["namespaceSelector"] == {"matchNames": ["team-a"]}


@pytest.mark.parametrize("component", ["etcd", "nats"])
def test_data_plane_monitor_selects_the_statefulset_pods_on_a_port_they_declare(on, component):
    manifests = on()
    monitor = named(manifests, "PodMonitor", f"dynamo-platform-{component}")["spec"]
    pod = named(manifests, "StatefulSet", f"dynamo-platform-{component}")["spec"]["template"]
    assert monitor["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    ports = {p["name"] for c in pod["spec"]["containers"] for p in c.get("ports", [])}
    assert {e["port"] for e in monitor["podMetricsEndpoints"]} <= ports


def test_operator_service_monitor_scrapes_the_metrics_service_over_https_with_a_token(on):
    manifests = on()
    monitor = named(manifests, "ServiceMonitor", "dynamo-platform-dynamo-operator")["spec"]
    service = named(manifests, "Service", "dynamo-platform-dynamo-operator-metrics")
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["scheme"] == "https"
    assert endpoint["bearerTokenFile"] == "/var/run/secrets/kubernetes.io/serviceaccount/token"


def test_alerts_watch_the_jobs_their_monitors_produce(on):
    manifests = on()
    exprs = {q.where.split()[-1]: q.expr for q in promql.rule_queries(manifests)}
    assert set(exprs) == {"DynamoEtcdDown", "DynamoEtcdNoLeader", "DynamoNatsDown", "DynamoOperatorDown",
                          "DynamoFrontendErrorRateHigh", "DynamoFrontendTTFTHigh"}
    # A PodMonitor's job is <namespace>/<name>; a ServiceMonitor's is the Service's name.
    assert 'job="dynamo-system/dynamo-platform-etcd"' in exprs["DynamoEtcdDown"]
    assert 'job="dynamo-system/dynamo-platform-nats"' in exprs["DynamoNatsDown"]
    assert 'job="dynamo-platform-dynamo-operator-metrics"' in exprs["DynamoOperatorDown"]
    assert "> 0.05" in exprs["DynamoFrontendErrorRateHigh"]
    assert "> 2" in exprs["DynamoFrontendTTFTHigh"]


def test_alert_thresholds_come_from_values(on):
    exprs = {q.where.split()[-1]: q.expr for q in promql.rule_queries(
        on({"monitoring.rules.frontendErrorRatio": 0.1, "monitoring.rules.ttftP95Seconds": 0.5}))}
    assert "> 0.1" in exprs["DynamoFrontendErrorRateHigh"]
    assert "> 0.5" in exprs["DynamoFrontendTTFTHigh"]


def test_every_rule_and_dashboard_query_parses_as_promql(on):
    manifests = on()
    queries = promql.rule_queries(manifests)
    for name, dashboard in promql.dashboards(manifests).items():
        queries += promql.dashboard_queries(name, dashboard)
    assert len(queries) > 20
    errors = {p.query.where: p.error for p in promql.parse(queries) if p.error}
    assert not errors


def test_the_promql_check_rejects_a_broken_expression():
    (parsed,) = promql.parse([promql.Query("broken", "sum(rate(x[5m])")])
    assert "unclosed left parenthesis" in parsed.error


def test_dashboards_carry_the_grafana_sidecar_label_and_may_move(on):
    # Helm merges label maps: a null removes the default sidecar label.
    default = [cm for cm in by_kind(on(), "ConfigMap") if "dashboard" in cm["metadata"]["name"]]
    assert default and all(cm["metadata"]["labels"]["grafana_dashboard"] == "1" for cm in default)
    moved = [cm for cm in by_kind(on({"monitoring.dashboards.namespace": "grafana",
                                          "monitoring.dashboards.labels": {"grafana_dashboard": None, "team/dashboard": "dynamo"}}), "ConfigMap")
             if "dashboard" in cm["metadata"]["name"]]
    assert all(cm["metadata"]["namespace"] == "grafana" and cm["metadata"]["labels"]["team/dashboard"] == "dynamo"
               and "grafana_dashboard" not in cm["metadata"]["labels"] for cm in moved)


@pytest.mark.parametrize(
    ("key", "gone"),
    [
        ("monitoring.podMonitors.frontend", ("PodMonitor", "dynamo-platform-dynamo-frontend")),
        ("monitoring.podMonitors.workers", ("PodMonitor", "dynamo-platform-dynamo-workers")),
        ("monitoring.podMonitors.etcd", ("PodMonitor", "dynamo-platform-etcd")),
        ("monitoring.podMonitors.nats", ("PodMonitor", "dynamo-platform-nats")),
        ("monitoring.rules.enabled", ("PrometheusRule", "dynamo-platform-dynamo-alerts")),
        ("monitoring.dashboards.enabled", ("ConfigMap", "dynamo-platform-dashboard-dynamo-inference")),
    ],
    ids=lambda v: v if isinstance(v, str) else v[1],
)
def test_each_monitoring_toggle_removes_its_object(on, key, gone):
    kind, name = gone
    assert any(m["metadata"]["name"] == name for m in by_kind(on(), kind))
    assert not any(m["metadata"]["name"] == name for m in by_kind(on({key: False}), kind))


def test_external_etcd_and_nats_get_no_monitor_and_no_down_alert(on):
    manifests = on({"global.etcd.install": False, "global.nats.install": False,
                    "dynamo-operator.dynamo.etcd.endpoints": "http://etcd.ext:2379", "dynamo-operator.dynamo.nats.url": "nats://nats.ext:4222"})
    assert {m["metadata"]["name"] for m in by_kind(manifests, "PodMonitor")} == {
        "dynamo-platform-dynamo-frontend", "dynamo-platform-dynamo-workers"}
    assert not [q for q in promql.rule_queries(manifests) if "Etcd" in q.where or "Nats" in q.where]


def test_nats_exporter_sidecar_meets_restricted_pod_security(on):
    (exporter,) = exporter_containers(on())
    ctx = exporter["securityContext"]
    assert ctx["allowPrivilegeEscalation"] is False and ctx["readOnlyRootFilesystem"] is True
    assert ctx["capabilities"]["drop"] == ["ALL"] and ctx["runAsNonRoot"] is True
    assert exporter["image"] == "docker.io/natsio/prometheus-nats-exporter:0.17.3"


def test_nats_exporter_port_is_open_to_monitoring_namespaces(on):
    policy = named(on({"global.networkPolicy.enabled": True}), "NetworkPolicy", "dynamo-platform-nats")
    monitoring_rule = next(r for r in policy["spec"]["ingress"] if "namespaceSelector" in r["from"][0])
    assert {p["port"] for p in monitoring_rule["ports"]} == {8222, 7777}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"monitoring.rules.frontendErrorRatio": 2}, "/monitoring/rules/frontendErrorRatio"),
        ({"monitoring.interval": "5 minutes"}, "/monitoring/interval"),
        ({"monitoring.podMonitors.workloadNamespaces": ["Team_A"]}, "/monitoring/podMonitors/workloadNamespaces/0"),
        ({"monitoring.dashboards.labels": {"grafana_dashboard": 1}}, "/monitoring/dashboards/labels/grafana_dashboard"),
        ({"nats.metrics.exporter.port": 0}, "/nats/metrics/exporter/port"),
        ({"dynamo-operator.enabled": False}, "monitoring.rules.operator=false"),
        ({"dynamo-operator.metricsService.enabled": False}, "dynamo-operator.metricsService.enabled=true"),
        ({"global.monitoring.enabled": False, "dynamo-operator.serviceMonitor.enabled": True,
          "dynamo-operator.metricsService.enabled": False}, "dynamo-operator.metricsService.enabled=true"),
    ],
    ids=["error-ratio-above-1", "interval", "namespace-name", "label-not-string", "exporter-port", "operator-off",
         "no-metrics-service", "service-monitor-without-service"],
)
def test_bad_monitoring_values_fail_naming_the_key(helm, values, message):
    with pytest.raises(HelmError) as failed:
        helm.template(values={**ON, **values}, api_versions=[MONITORING_API])
    assert message in failed.value.stderr
