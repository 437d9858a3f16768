"""Upstream's names of a subchart's keys (charts/<subchart>/files/upstream-aliases.yaml, upstream key ->
{key: this chart's key, default: its values.yaml default}). The schema takes each upstream name with
the type of the key it stands for, null allowed (upstream's values file leaves many keys null);
dynamo-common.applyAliases copies the value over. The defaults are copied because Helm hides
values.yaml from templates' .Files: check_defaults keeps the copy true.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from ..paths import CHART
from .openapi import Schema
from .reference import node_at
from .refused import insert


def aliases(chart: str) -> dict[str, dict[str, Any]]:
    path = CHART / "charts" / chart / "files" / "upstream-aliases.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def check_defaults(chart: str, values: dict[str, Any]) -> None:
    """Fail (SystemExit) when an alias file's copy of a default differs from the chart's values.yaml."""
    for upstream, alias in aliases(chart).items():
        default: Any = values
        for key in alias["key"].split("."):
            default = default[key]
        if default != alias["default"]:
            raise SystemExit(f"charts/{chart}/files/upstream-aliases.yaml: {upstream} -> {alias['key']} gives default "
                             f"{alias['default']!r}, values.yaml has {default!r}")


def alias_node(target: Schema, chart: str, key: str) -> Schema:
    node: dict[str, Any] = copy.deepcopy(target)
    kind = node.get("type")
    if kind is not None:
        node["type"] = [*(kind if isinstance(kind, list) else [kind]), "null"]
        node["type"] = list(dict.fromkeys(node["type"]))
    if "enum" in node and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    node.pop("required", None)
    node["description"] = f"Upstream's name for {chart}.{key}; set one of the two."
    return node


def add_to(schema: Schema, chart: str) -> Schema:
    """The subchart's schema (its own, or its section of the umbrella's) with upstream's names added."""
    for upstream, alias in aliases(chart).items():
        ours = alias["key"]
        insert(schema, upstream.split("."), alias_node(node_at(schema, tuple(ours.split("."))), chart, ours))
    return schema


def table(charts: list[str]) -> list[str]:
    rows = ["| Upstream key | This chart's key |", "| --- | --- |"]
    for chart in charts:
        rows += [f"| `{chart}.{upstream}` | `{chart}.{alias['key']}` |" for upstream, alias in aliases(chart).items()]
    return rows
