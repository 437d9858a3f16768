"""Offline checks of CRD schemas: the structural-schema rules, and validation of objects.

The API server is the authority (tests/install use a real one); this lets the template layer
catch a broken schema or example in milliseconds, with the same semantics: fields a schema does
not list are errors, as under kubectl's default strict field validation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema

Schema = dict[str, Any]
PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"


def structural_violations(schema: Schema, path: str = "") -> Iterator[str]:
    """Yield a message per violation of the Kubernetes structural-schema rules we rely on."""
    if not schema.get("type") and not schema.get(PRESERVE) and not schema.get(INT_OR_STRING):
        yield f"{path or '<root>'}: no type"
    if "properties" in schema and "additionalProperties" in schema:
        yield f"{path}: properties and additionalProperties are mutually exclusive"
    if schema.get("additionalProperties") is False:
        yield f"{path}: additionalProperties: false is not allowed"
    for keyword in ("allOf", "anyOf", "oneOf", "not", "$ref"):
        if keyword in schema:
            yield f"{path}: {keyword} is not used by our CRDs"
    if path == ".metadata" and set(schema.get("properties", {})) - {"name", "generateName"}:
        yield f"{path}: only name and generateName may be constrained"
    if schema.get("x-kubernetes-list-type") == "map":
        missing = set(schema["x-kubernetes-list-map-keys"]) - set(schema["items"].get("required", []))
        if missing:
            yield f"{path}: list-map keys {sorted(missing)} must be required"
    for name, child in schema.get("properties", {}).items():
        yield from structural_violations(child, f"{path}.{name}")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from structural_violations(schema["additionalProperties"], f"{path}.*")
    if "items" in schema:
        yield from structural_violations(schema["items"], f"{path}[]")


def to_json_schema(schema: Schema) -> Schema:
    """OpenAPI v3 (Kubernetes dialect) to JSON Schema with the API server's strictness."""
    out = {k: v for k, v in schema.items() if not k.startswith("x-kubernetes-")}
    if schema.get(INT_OR_STRING):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in schema:
        out["properties"] = {k: to_json_schema(v) for k, v in schema["properties"].items()}
        if not schema.get(PRESERVE):
            out["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = to_json_schema(schema["additionalProperties"])
    if "items" in schema:
        out["items"] = to_json_schema(schema["items"])
    return out


def validation_errors(crd: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """Errors the object would get against the CRD's served version, as 'path: message'."""
    (version,) = [v for v in crd["spec"]["versions"] if obj["apiVersion"].endswith("/" + v["name"])]
    schema = to_json_schema(version["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(obj)
    ]
