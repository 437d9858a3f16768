"""Cluster providers: each gives the tests a kubeconfig and tears down only what it created.

- local: a real control plane as processes on 127.0.0.1, kwok nodes (default here and in CI)
- kind: a kind cluster, where a Docker engine runs (laptops, GitHub Actions)
- existing: any KUBECONFIG/context, e.g. a real GPU cluster; never created nor deleted here
"""

from __future__ import annotations

from typing import Protocol

from ..kube import Kubectl


class Cluster(Protocol):
    name: str
    # True where no operator image can run and kwok simulates the operator's pods (local, kind
    # here): the admission webhooks have no server, and the CRD conversion webhook gets a stand-in.
    simulates_operator: bool

    @property
    def kubectl(self) -> Kubectl: ...

    def unavailable(self) -> str | None:
        """Why this provider cannot run here, or None."""

    def up(self) -> bool:
        """Make the cluster reachable; True if this call created it."""

    def down(self) -> None:
        """Delete what up() created."""

    def prepare_install(self) -> None:
        """Anything an install needs that the provider owns (the local provider's volumes)."""

    def install_values(self) -> dict:
        """Chart values every install on this cluster needs (kind: its local images, where the
        simulated operator goes); {} where the chart's defaults run as they are."""

    def log_tails(self) -> str:
        """Component logs worth printing when a test fails."""


def provider(name: str, **options) -> Cluster:
    from .existing import ExistingCluster
    from .kind import KindCluster
    from .local import LocalCluster

    providers = {"local": LocalCluster, "kind": KindCluster, "existing": ExistingCluster}
    if name not in providers:
        raise ValueError(f"unknown cluster provider {name!r}; choose one of {sorted(providers)}")
    return providers[name](**options)
