"""Keys the chart refuses (charts/dynamo-platform/files/refused-keys.yaml): former names of its keys
and upstream keys without an equivalent. The values schema accepts each one, so that the template
(dynamo-common.refuseKeys) can fail naming what to set instead, rather than the schema's bare
"additional properties not allowed"; objects created on their way stay closed, so a typo below
them still fails.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..paths import CHART
from .openapi import Schema

REFUSED_KEYS = CHART / "files" / "refused-keys.yaml"


def entries() -> list[dict[str, Any]]:
    return yaml.safe_load(REFUSED_KEYS.read_text())


def node(entry: dict[str, Any]) -> Schema:
    return {"description": f"Not read by this chart: {entry['why']}. Instead, {entry['instead']}.", "deprecated": True}


def insert(schema: Schema, path: list[str], leaf: Schema) -> None:
    """Put leaf at path, creating closed objects on the way (an existing node keeps its own keys)."""
    for key in path[:-1]:
        properties = schema.setdefault("properties", {})
        schema = properties.setdefault(key, {"type": "object", "properties": {}, "additionalProperties": False})
    schema.setdefault("properties", {})[path[-1]] = leaf


def add_to(schema: Schema, prefix: str = "") -> Schema:
    """Every refused key under prefix (a subchart's name; "" for the umbrella) added to its schema."""
    for entry in entries():
        path = entry["key"].split(".")
        if not prefix:
            insert(schema, path, node(entry))
        elif path[0] == prefix:
            insert(schema, path[1:], node(entry))
    return schema


def table() -> list[str]:
    rows = ["| Key | Why | Instead |", "| --- | --- | --- |"]
    rows += [f"| `{e['key']}` | {e['why']} | {e['instead']} |".replace("<", "&lt;").replace(">", "&gt;") for e in entries()]
    return rows
