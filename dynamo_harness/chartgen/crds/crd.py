"""The CustomResourceDefinition of one kind: its versions (served, stored, deprecated with upstream's
warning), their schemas, status and scale subresources and printer columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..openapi import Schema, obj, string

GROUP = "nvidia.com"


@dataclass
class Version:
    name: str
    spec: Schema
    status: Schema
    storage: bool = False
    deprecated: bool = False
    columns: list[dict[str, str]] = field(default_factory=list)
    scale: dict[str, str] | None = None
    spec_required: bool = True


@dataclass
class CRD:
    kind: str
    plural: str
    short_names: list[str]
    versions: list[Version]

    @property
    def name(self) -> str:
        return f"{self.plural}.{GROUP}"

    def deprecation_warning(self, version: Version) -> str:
        newest = self.versions[-1].name
        return f"{GROUP}/{version.name} {self.kind} is deprecated; use {GROUP}/{newest} {self.kind}"

    def _version(self, version: Version) -> dict[str, Any]:
        root = obj(
            {
                "apiVersion": string(),
                "kind": string(),
                "metadata": obj(),
                "spec": version.spec,
                "status": version.status,
            },
            required=["spec"] if version.spec_required else None,
        )
        out: dict[str, Any] = {"name": version.name, "served": True, "storage": version.storage}
        if version.deprecated:
            out["deprecated"] = True
            out["deprecationWarning"] = self.deprecation_warning(version)
        out["schema"] = {"openAPIV3Schema": root}
        out["subresources"] = {"status": {}}
        if version.scale:
            out["subresources"]["scale"] = version.scale
        if version.columns:
            out["additionalPrinterColumns"] = version.columns
        return out

    def manifest(self) -> dict[str, Any]:
        assert sum(v.storage for v in self.versions) == 1, f"{self.kind}: exactly one storage version"
        return {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": self.name,
                "labels": {"app.kubernetes.io/part-of": "dynamo-platform"},
            },
            "spec": {
                "group": GROUP,
                "names": {
                    "kind": self.kind,
                    "listKind": f"{self.kind}List",
                    "plural": self.plural,
                    "singular": self.kind.lower(),
                    "shortNames": self.short_names,
                    "categories": ["dynamo"],
                },
                "scope": "Namespaced",
                "versions": [self._version(v) for v in self.versions],
            },
        }
