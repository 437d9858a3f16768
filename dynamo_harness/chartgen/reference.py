"""The values reference of the chart README: every documented key with its type, default and description."""

from __future__ import annotations

import json
from typing import Any

from .openapi import Schema


def node_at(schema: Schema, path: tuple[str, ...]) -> Schema:
    for key in path:
        schema = schema["properties"][key]
    return schema


def type_of(node: Schema) -> str:
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array" and "type" in node.get("items", {}):
        return f"list of {node['items']['type']}"
    return kind


def default_at(values: dict[str, Any], path: tuple[str, ...]) -> str:
    value: Any = values
    for key in path:
        if key not in value:
            return "unset"
        value = value[key]
    text = json.dumps(value, separators=(", ", ": "))
    return f"`{text}`".replace("|", "\\|")


def table(prefix: str, schema: Schema, values: dict[str, Any], docs: dict[tuple[str, ...], str]) -> list[str]:
    rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for path, text in docs.items():
        key = ".".join((prefix, *path) if prefix else path)
        node = node_at(schema, path)
        rows.append(f"| `{key}` | {type_of(node)} | {default_at(values, path)} | {text} |")
    return rows
