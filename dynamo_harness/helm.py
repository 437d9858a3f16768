"""A thin wrapper over the real helm binary (pinned by hack/bootstrap.sh)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .paths import CHART, OVERLAYS, TOOLS_BIN


class HelmError(RuntimeError):
    """helm exited non-zero; `stderr` holds its message (schema errors, template `fail`s)."""

    def __init__(self, args: list[str], stderr: str):
        super().__init__(f"helm {' '.join(args)} failed:\n{stderr}")
        self.stderr = stderr


@dataclass
class Helm:
    binary: Path = TOOLS_BIN / "helm"
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [str(self.binary), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
        )
        if result.returncode != 0:
            raise HelmError(list(args), result.stderr)
        return result.stdout

    def template(
        self,
        *,
        overlay: str | None = None,
        values: dict | None = None,
        release: str = "dynamo-platform",
        namespace: str = "dynamo-system",
        chart: Path = CHART,
        include_crds: bool = False,
        api_versions: Sequence[str] = (),
    ) -> list[dict]:
        """Render the chart and return its objects (empty documents dropped). api_versions are
        the APIs the render pretends the cluster serves (.Capabilities), e.g. monitoring.coreos.com/v1."""
        args = ["template", release, str(chart), "--namespace", namespace]
        args += values_args(overlay, values)
        for api in api_versions:
            args += ["--api-versions", api]
        if include_crds:
            args.append("--include-crds")
        return [doc for doc in yaml.safe_load_all(self.run(*args)) if doc]

    def lint(self, *, overlay: str | None = None, chart: Path = CHART) -> str:
        return self.run("lint", str(chart), "--strict", *values_args(overlay, None))


def values_args(overlay: str | None, values: dict | None) -> list[str]:
    """CLI arguments for an overlay from values/ and inline values (as a JSON --set-json each)."""
    args: list[str] = []
    if overlay:
        args += ["--values", str(OVERLAYS / f"{overlay}.yaml")]
    for key, value in (values or {}).items():
        args += ["--set-json", f"{key}={json.dumps(value)}"]
    return args
