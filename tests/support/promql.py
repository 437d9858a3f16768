"""PromQL in the chart's monitoring objects: find every expression, parse it with Prometheus's own
parser (hack/tools/promql, built by hack/bootstrap.sh) and list the metrics it queries."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from typing import Any

from dynamo_harness.manifests import Manifest, by_kind
from dynamo_harness.paths import TOOLS_BIN

PROMQL_CHECK = TOOLS_BIN / "promql-check"
# Grafana expands these before a query reaches Prometheus; stand-ins keep the PromQL parseable.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
GRAFANA_VARIABLE = re.compile(r"\$\{?(\w+)\}?")
# A dashboard variable query such as label_values(metric, label) is Grafana syntax, not PromQL.
LABEL_VALUES = re.compile(r"^label_values\((?:(?P<metric>[a-zA-Z_:][\w:]*)\s*,)?\s*\w+\)$")


@dataclass(frozen=True)
class Query:
    where: str  # e.g. "PrometheusRule/r-dynamo-alerts DynamoEtcdDown" or "dynamo-inference.json panel 3"
    expr: str


@dataclass(frozen=True)
class Parsed:
    query: Query
    error: str
    metrics: tuple[str, ...]


def rule_queries(manifests: list[Manifest]) -> list[Query]:
    return [
        Query(f"PrometheusRule/{rule['metadata']['name']} {r.get('alert') or r.get('record')}", r["expr"])
        for rule in by_kind(manifests, "PrometheusRule")
        for group in rule["spec"]["groups"]
        for r in group["rules"]
    ]


def dashboards(manifests: list[Manifest]) -> dict[str, dict[str, Any]]:
    """Every Grafana dashboard JSON carried by a ConfigMap, by file name (raises if one does not parse)."""
    return {key: json.loads(text) for cm in by_kind(manifests, "ConfigMap")
            for key, text in (cm.get("data") or {}).items() if key.endswith(".json")}


def dashboard_queries(name: str, dashboard: dict[str, Any]) -> list[Query]:
    queries = [Query(f"{name} panel {p.get('id')} {t['refId']}", _expand(t["expr"]))
               for p in dashboard.get("panels", []) for t in p.get("targets", []) if "expr" in t]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = LABEL_VALUES.match(query)
            # label_values(metric, label) reads that metric's series: check the metric as a selector.
            queries.append(Query(f"{name} variable {variable['name']}", match["metric"] if match and match["metric"] else query))
    return queries


def _expand(expr: str) -> str:
    for variable, stand_in in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, stand_in)
    return GRAFANA_VARIABLE.sub("x", expr)


def parse(queries: list[Query]) -> list[Parsed]:
    out = subprocess.run([str(PROMQL_CHECK)], input=json.dumps([q.expr for q in queries]),
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return [Parsed(q, r["error"], tuple(r["metrics"])) for q, r in zip(queries, json.loads(out), strict=True)]
