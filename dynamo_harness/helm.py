"""A thin wrapper over the real helm binary (pinned by hack/bootstrap.sh)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .paths import CHART, OVERLAYS, TOOLS_BIN

# Every optional component and hook job switched on, so no pod escapes a check.
EVERYTHING_ON = {
    "global.grove.install": True,
    "global.kai-scheduler.install": True,
    "snapshot.enabled": True,
    "dynamo-operator.checkpoint.enabled": True,
    "global.etcd.auth.enabled": True,
    "global.nats.auth.enabled": True,
    "global.etcd.tls.enabled": True,
    "global.nats.tls.enabled": True,
    "global.networkPolicy.enabled": True,
}
CLUSTER_SCOPED_INSTALLS = ("global.grove.install", "global.kai-scheduler.install")


def everything_on(overlay: str | None = None) -> dict:
    """Values turning on every component the overlay allows (namespace-restricted: no cluster-scoped installs)."""
    if overlay == "namespace-restricted":
        return {k: v for k, v in EVERYTHING_ON.items() if k not in CLUSTER_SCOPED_INSTALLS}
    return dict(EVERYTHING_ON)


class HelmError(RuntimeError):
    """helm exited non-zero; `stderr` holds its message (schema errors, template `fail`s)."""

    def __init__(self, args: list[str], stderr: str):
        super().__init__(f"helm {' '.join(args)} failed:\n{stderr}")
        self.stderr = stderr


@dataclass
class Helm:
    binary: Path = TOOLS_BIN / "helm"
    env: dict[str, str] = field(default_factory=dict)
    global_args: list[str] = field(default_factory=list)  # e.g. --kube-context, after every command's own

    def run(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [str(self.binary), *args, *self.global_args],
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
    ) -> list[dict]:
        """Render the chart and return its objects (empty documents dropped)."""
        args = ["template", release, str(chart), "--namespace", namespace]
        args += values_args(overlay, values)
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
