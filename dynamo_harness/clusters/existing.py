"""The `existing` provider: a cluster someone else made (KUBECONFIG, optional context)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..kube import Kubectl
from ..kube_api import KubeApi, KubeApiError


@dataclass
class ExistingCluster:
    kubeconfig: Path = field(default_factory=lambda: Path(os.environ.get("KUBECONFIG", Path.home() / ".kube" / "config")))
    context: str | None = None

    name = "existing"
    simulates_operator = False

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.kubeconfig, self.context)

    def unavailable(self) -> str | None:
        if not self.kubeconfig.exists():
            return f"no kubeconfig at {self.kubeconfig}: set KUBECONFIG to the cluster to test"
        try:
            KubeApi(self.kubeconfig, self.context).server_version()
        except KubeApiError as err:
            return f"cluster of {self.kubeconfig} not reachable: {err}"
        return None

    def up(self) -> bool:
        return False  # never creates anything

    def down(self) -> None:
        pass  # never deletes what it did not create

    def install_values(self) -> dict:
        return {}

    def prepare_install(self) -> None:
        pass

    def log_tails(self) -> str:
        return ""
