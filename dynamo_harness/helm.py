"""A thin wrapper over the real helm binary (pinned by hack/bootstrap.sh)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .manifests import load_all
from .paths import CHART, OVERLAYS, TOOLS_BIN

# The bundled etcd and NATS, off by default as upstream's since 1.6: renders about them turn both on.
ETCD_AND_NATS = {"global.etcd.install": True, "global.nats.install": True}
# Every optional component and hook job switched on, so no pod escapes a check.
EVERYTHING_ON = {
    **ETCD_AND_NATS,
    "global.grove.install": True,
    "global.kai-scheduler.install": True,
    "global.lws.install": True,
    "snapshot.enabled": True,
    "dynamo-operator.checkpoint.enabled": True,
    "global.etcd.auth.enabled": True,
    "global.nats.auth.enabled": True,
    "global.etcd.tls.enabled": True,
    "global.nats.tls.enabled": True,
    "global.networkPolicy.enabled": True,
    "global.monitoring.enabled": True,
    "inference-gateway.enabled": True,
    "inference-gateway.pool.dynamoGraphDeployment": "vllm-agg",
    "inference-gateway.route.gateway.name": "inference-gateway",
}
# APIs whose objects render only where the cluster serves them (helm template --api-versions).
OPTIONAL_APIS = ["monitoring.coreos.com/v1"]
CLUSTER_SCOPED_INSTALLS = ("global.grove.install", "global.kai-scheduler.install", "global.lws.install")


def everything_on(overlay: str | None = None) -> dict:
    """Values turning on every component the overlay allows (namespace-restricted: no cluster-scoped installs)."""
    if overlay == "namespace-restricted":
        return {k: v for k, v in EVERYTHING_ON.items() if k not in CLUSTER_SCOPED_INSTALLS}
    return dict(EVERYTHING_ON)


# Helm 4 (the default) and Helm 3, both pinned by hack/bootstrap.sh: users run either.
HELM4 = TOOLS_BIN / "helm"
HELM3 = TOOLS_BIN / "helm3"


def helm_binary() -> Path:
    """The helm the harness runs: $HELM_BINARY when set (the template layer's Helm 3 pass), else Helm 4."""
    return Path(os.environ.get("HELM_BINARY") or HELM4)


class HelmError(RuntimeError):
    """helm exited non-zero; `stderr` holds its message (schema errors, template `fail`s)."""

    def __init__(self, args: list[str], stderr: str):
        super().__init__(f"helm {' '.join(args)} failed:\n{stderr}")
        self.stderr = stderr


@dataclass
class Helm:
    binary: Path = field(default_factory=helm_binary)
    env: dict[str, str] = field(default_factory=dict)
    global_args: list[str] = field(default_factory=list)  # e.g. --kube-context, after every command's own

    def run(self, *args: str, timeout: float = 300, with_stderr: bool = False) -> str:
        """helm's stdout; with_stderr adds what it reports on stderr (`helm push` prints its digest there)."""
        result = subprocess.run(
            [str(self.binary), *args, *self.global_args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
        )
        if result.returncode != 0:
            raise HelmError(list(args), result.stderr)
        return result.stdout + (result.stderr if with_stderr else "")

    def template(self, **kwargs) -> list[dict]:
        """Render the chart and return its objects (empty documents dropped)."""
        return load_all(self.template_text(**kwargs))

    def template_text(
        self,
        *,
        overlay: str | None = None,
        values: dict | None = None,
        release: str = "dynamo-platform",
        namespace: str = "dynamo-system",
        chart: Path | str = CHART,
        include_crds: bool = False,
        kube_version: str | None = None,
        api_versions: Sequence[str] = (),
    ) -> str:
        """`helm template` output as helm printed it (byte comparisons: GitOps stability, Helm 3 vs 4).
        api_versions are the APIs the render pretends the cluster serves (.Capabilities)."""
        args = ["template", release, str(chart), "--namespace", namespace]
        args += values_args(overlay, values)
        for api in api_versions:
            args += ["--api-versions", api]
        if include_crds:
            args.append("--include-crds")
        if kube_version:
            args += ["--kube-version", kube_version]
        return self.run(*args)

    def major_version(self) -> int:
        return int(self.run("version", "--template", "{{.Version}}").lstrip("v").split(".")[0])

    def lint(self, *, overlay: str | None = None, chart: Path = CHART) -> str:
        return self.run("lint", str(chart), "--strict", *values_args(overlay, None))


def values_args(overlay: str | Sequence[str] | None, values: dict | None) -> list[str]:
    """CLI arguments for overlays from values/ ("kind", or ["kind", "local/real-node"], later ones
    win) and inline values (as a JSON --set-json each)."""
    args: list[str] = []
    for name in [overlay] if isinstance(overlay, str) else overlay or []:
        args += ["--values", str(OVERLAYS / f"{name}.yaml")]
    for key, value in (values or {}).items():
        args += ["--set-json", f"{key}={json.dumps(value)}"]
    return args
