"""CRDs of the bundled Grove, KAI Scheduler and LeaderWorkerSet subcharts.

Grove's CRDs are upstream's own, as Grove's API module embeds them: `hack/tools/grove-crds`
imports `github.com/ai-dynamo/grove/operator/api/core/v1alpha1/crds` at the version its go.sum
pins (the grove subchart's appVersion) and prints them; the text is written unchanged.

PodGang (Grove's scheduler API) and the KAI Scheduler CRDs come from no module the module proxy
serves at the pinned versions (Grove scheduler/api v0.1.0-alpha.8, KAI v0.13.4), so they stay
stubs that keep unknown fields: group/version/kind only, so the bundled install is
self-contained, with validation left to the owning controllers. docs/compatibility.md lists
them as not validated.

LWS's CRD is copied whole from its pinned module (hack/tools/crds, fetched by hack/bootstrap.sh).

Grove's and LWS's CRDs are written without their `description` fields: with them, the two add
~2.8 MB of YAML to a release that installs both, and Helm keeps every chart file in the release
Secret (1 MiB at most). The schemas, and so the API server's validation, are upstream's unchanged;
`kubectl explain` shows no field docs for those kinds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from ..paths import CRD_SCHEMAS, TOOLS_BIN
from .openapi import free_form, obj, string

GROVE_CRDS_TOOL = "grove-crds"
UNDOCUMENTED = "# Upstream's CRD with its description fields removed (dynamo_harness/chartgen/foreign_crds.py).\n"
# (chart, module, file under the module's CRD directory) of CRDs vendored verbatim.
VERBATIM = [("lws", "sigs.k8s.io/lws", "leaderworkerset.x-k8s.io_leaderworkersets.yaml")]

# (chart, group, version, kind, plural, scope, short names): not validated, see the docstring.
STUBS = [
    ("grove", "scheduler.grove.io", "v1alpha1", "PodGang", "podgangs", "Namespaced", ["pg"]),
    ("kai-scheduler", "scheduling.run.ai", "v2", "Queue", "queues", "Cluster", ["q"]),
    ("kai-scheduler", "scheduling.run.ai", "v2alpha2", "PodGroup", "podgroups", "Namespaced", ["pogr"]),
    ("kai-scheduler", "scheduling.run.ai", "v1alpha2", "BindRequest", "bindrequests", "Namespaced", ["br"]),
]


def grove_crds() -> dict[str, str]:
    """File name -> CRD YAML, exactly as Grove's API module embeds it."""
    tool = TOOLS_BIN / GROVE_CRDS_TOOL
    if not tool.exists():
        tool = shutil.which(GROVE_CRDS_TOOL)
        if tool is None:
            raise SystemExit(f"{GROVE_CRDS_TOOL} is not built: run `make bootstrap` (hack/tools/{GROVE_CRDS_TOOL})")
    return json.loads(subprocess.run([str(tool)], check=True, capture_output=True, text=True).stdout)


def without_descriptions(text: str) -> str:
    """The CRD YAML with every `description` of its OpenAPI schemas removed, all else unchanged."""

    def strip(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, dict):
            # Under `properties` the keys are field names: a field called "description" stays.
            return {k: strip(v, k == "properties" and not in_properties)
                    for k, v in node.items() if in_properties or k != "description"}
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    return yaml.safe_dump(strip(yaml.safe_load(text)), sort_keys=False, width=120)


def verbatim_crds() -> list[tuple[str, str, str]]:
    """(chart, file name, text) of each CRD copied from its project's module."""
    out = []
    for chart, module, name in VERBATIM:
        source: Path = CRD_SCHEMAS / module / name
        if not source.exists():
            raise SystemExit(f"{source} is missing: run hack/bootstrap.sh (it copies CRDs from hack/tools/crds)")
        out.append((chart, name, source.read_text()))
    return out


def stub_crds() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for chart, group, version, kind, plural, scope, short in STUBS:
        schema = obj(
            {
                "apiVersion": string(),
                "kind": string(),
                "metadata": obj(),
                "spec": free_form(),
                "status": free_form(),
            }
        )
        out.append(
            (
                chart,
                {
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": f"{plural}.{group}", "labels": {"app.kubernetes.io/part-of": "dynamo-platform"}},
                    "spec": {
                        "group": group,
                        "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower(), "shortNames": short},
                        "scope": scope,
                        "versions": [
                            {
                                "name": version,
                                "served": True,
                                "storage": True,
                                "schema": {"openAPIV3Schema": schema},
                                "subresources": {"status": {}},
                            }
                        ],
                    },
                },
            )
        )
    return out
