"""JSON Schema of a Kubernetes API type, read from its Go source as controller-gen reads it.

For an API whose CRD YAML no served module carries (Flux's HelmRelease: the module proxy refuses
helm-controller's root module, its `api` module has only the Go types). Fields come from the
`json:` tags, required-ness from `+required` / `+optional` / omitempty, enums and patterns from
the `+kubebuilder:validation:` markers; types from another Go package stay free-form. Objects of
the package's own structs are closed, as the API server's pruning makes unknown fields errors.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

Schema = dict[str, Any]

FIELD = re.compile(r'^\s*(\w+)\s+(\S+)\s+`json:"([^",]*)((?:,[^"]*)?)"')
MARKER = re.compile(r"^\s*//\s*\+kubebuilder:validation:(Enum|Pattern)=(.*)$")
BUILTIN = {"string": "string", "bool": "boolean", "int": "integer", "int32": "integer", "int64": "integer",
           "float64": "number", "metav1.Duration": "string"}


class GoTypes:
    """The struct and named string types of one Go package directory."""

    def __init__(self, directory: Path):
        self.structs: dict[str, list[tuple[str, str, bool, Schema]]] = {}
        self.strings: set[str] = set()
        self.aliases: set[str] = set()
        for source in sorted(directory.glob("*.go")):
            if not source.name.endswith("_test.go"):
                self._parse(source.read_text())

    def _parse(self, text: str) -> None:
        lines = text.splitlines()
        for index, line in enumerate(lines):
            if match := re.match(r"^type (\w+) struct \{", line):
                self.structs[match[1]] = self._fields(lines, index + 1)
            elif match := re.match(r"^type (\w+) string\b", line):
                self.strings.add(match[1])
            elif match := re.match(r"^type (\w+) = \w+\.\w+", line):
                self.aliases.add(match[1])

    @staticmethod
    def _fields(lines: list[str], start: int) -> list[tuple[str, str, bool, Schema]]:
        fields, markers, optional = [], {}, False
        for line in lines[start:]:
            if line.startswith("}"):
                return fields
            if marker := MARKER.match(line):
                kind, value = marker.groups()
                markers[kind] = value.split(";") if kind == "Enum" else json.loads(value)
            elif "+optional" in line:
                optional = True
            elif (field := FIELD.match(line)) and field[3]:
                required = not optional and "omitempty" not in field[4]
                extra: Schema = {}
                if "Enum" in markers:
                    extra["enum"] = markers["Enum"]
                if "Pattern" in markers:
                    extra["pattern"] = markers["Pattern"]
                fields.append((field[3], field[2], required, extra))
                markers, optional = {}, False
            elif not line.strip().startswith("//"):
                markers, optional = {}, False
        raise ValueError("unterminated struct")

    def schema(self, go_type: str) -> Schema:
        go_type = go_type.lstrip("*")
        if go_type.startswith("[]"):
            return {"type": "array", "items": self.schema(go_type[2:])}
        if go_type.startswith("map[string]"):
            return {"type": "object", "additionalProperties": self.schema(go_type[len("map[string]"):])}
        if go_type in BUILTIN:
            return {"type": BUILTIN[go_type]}
        if go_type in self.strings:
            return {"type": "string"}
        if "." in go_type or go_type in self.aliases:
            return {}  # defined in another Go package: free-form here
        if go_type not in self.structs:
            raise KeyError(f"Go type {go_type} not found in the package")
        properties, required = {}, []
        for name, field_type, is_required, extra in self.structs[go_type]:
            properties[name] = {**self.schema(field_type), **extra}
            if is_required:
                required.append(name)
        return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
