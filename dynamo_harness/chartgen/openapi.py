"""Small constructors for OpenAPI v3 / JSON Schema nodes, shared by the CRD and values schemas."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def string(description: str = "", **extra: Any) -> Schema:
    return _node("string", description, extra)


def integer(description: str = "", **extra: Any) -> Schema:
    return _node("integer", description, extra)


def number(description: str = "", **extra: Any) -> Schema:
    return _node("number", description, extra)


def boolean(description: str = "", **extra: Any) -> Schema:
    return _node("boolean", description, extra)


def enum(values: list[str], description: str = "") -> Schema:
    return string(description, enum=values)


def array(items: Schema, description: str = "", **extra: Any) -> Schema:
    return _node("array", description, {"items": items, **extra})


def obj(
    properties: dict[str, Schema] | None = None,
    description: str = "",
    required: list[str] | None = None,
    **extra: Any,
) -> Schema:
    node = _node("object", description, extra)
    if properties is not None:
        node["properties"] = properties
    if required:
        node["required"] = required
    return node


def string_map(description: str = "") -> Schema:
    return obj(description=description, additionalProperties=string())


def int_or_string(description: str = "") -> Schema:
    node: Schema = {"x-kubernetes-int-or-string": True}
    if description:
        node["description"] = description
    return node


def free_form(description: str = "", **properties: Schema) -> Schema:
    """An object whose unlisted fields are kept as given (Kubernetes types embedded whole)."""
    return obj(properties or None, description, **{"x-kubernetes-preserve-unknown-fields": True})


def _node(kind: str, description: str, extra: dict[str, Any]) -> Schema:
    node: Schema = {"type": kind}
    if description:
        node["description"] = description
    node.update(extra)
    return node
