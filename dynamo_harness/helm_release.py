"""One Helm release of the platform chart on a cluster: install, upgrade, uninstall, its objects,
whether its workloads have rolled out, and `helm test`. `make up`, `dynamo-harness install`, the
install tests and the bench all install through it."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from .helm import Helm, HelmError, values_args
from .kube import Kubectl, rollout_state, wait_for
from .kube_api import POD, ROLLOUT_KINDS, Kind, KubeApi
from .paths import CHART

DEFAULT_NAME, DEFAULT_NAMESPACE = "dynamo-platform", "dynamo-system"
# Where no operator process answers the admission webhooks (the local cluster runs none), a
# namespace carrying this label is left alone by them, so the CRD schemas can be checked there.
WEBHOOK_SKIP_LABEL = "dynamo-platform.test/webhooks"
SCHEMA_ONLY_LABELS = {WEBHOOK_SKIP_LABEL: "off"}
_UNLABELLED = {"matchExpressions": [{"key": WEBHOOK_SKIP_LABEL, "operator": "NotIn", "values": ["off"]}]}
SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES = {
    "dynamo-operator.webhook.namespaceSelector": _UNLABELLED,
    "grove.webhooks.namespaceSelector": _UNLABELLED,  # no Grove process runs there either
}

# The storage-migration hook Job counts only where it really runs. On the local cluster its pod
# would be simulated by kwok, and pods have no route to the API server (it listens on loopback),
# so the local harness turns the hook off instead of reporting a simulated migration;
# tests/install/test_storage_migration_on_real_node.py runs it for real on the real node.
NO_STORAGE_MIGRATION = {"dynamo-operator.storageMigration.enabled": False}


@dataclass
class Release:
    kubectl: Kubectl
    name: str = DEFAULT_NAME
    namespace: str = DEFAULT_NAMESPACE
    base_values: dict = field(default_factory=dict)  # set on every install and upgrade of this release

    @cached_property
    def api(self) -> KubeApi:
        return KubeApi.like(self.kubectl)

    @property
    def helm(self) -> Helm:
        context = ["--kube-context", self.kubectl.context] if self.kubectl.context else []
        return Helm(env={"KUBECONFIG": str(self.kubectl.kubeconfig)}, global_args=context)

    def install(self, overlay: str | None = None, values: dict | None = None, *, wait: bool = True,
                timeout: float = 180, chart=CHART) -> str:
        """Install, or upgrade a release of that name, creating the namespace if needed; a release
        an interrupted helm run left pending is recovered first."""
        self.recover_interrupted()
        return self._deploy("upgrade", "--install", "--create-namespace", overlay=overlay, values=values, wait=wait,
                            timeout=timeout, chart=chart)

    def upgrade(self, overlay: str | None = None, values: dict | None = None, *, wait: bool = True,
                timeout: float = 120, chart=CHART) -> str:
        return self._deploy("upgrade", overlay=overlay, values=values, wait=wait, timeout=timeout, chart=chart)

    def uninstall(self, wait: bool = True, timeout: float = 120) -> str:
        return self.helm.run("uninstall", self.name, "--namespace", self.namespace,
                             *(["--wait", "--timeout", f"{timeout:.0f}s"] if wait else []))

    def recover_interrupted(self) -> None:
        """An interrupted helm run leaves its release pending-install/-upgrade/-rollback, and every
        later one fails with "another operation is in progress": roll back to the revision before,
        or uninstall a first install that never finished."""
        try:
            history = json.loads(self.helm.run("history", self.name, "--namespace", self.namespace, "-o", "json"))
        except HelmError:
            return  # no such release
        if not history or not history[-1]["status"].startswith("pending-"):
            return
        if len(history) == 1:
            self.uninstall(wait=True)
        else:
            self.helm.run("rollback", self.name, str(history[-2]["revision"]), "--namespace", self.namespace, "--wait")

    def test(self, timeout: float = 300, leave_out: Sequence[str] = ()) -> str:
        """`helm test` with the probe logs: run the chart's test hook pods (but the named ones);
        HelmError names the one that failed."""
        filters = [arg for name in leave_out for arg in ("--filter", f"!name={name}")]
        return self.helm.run("test", self.name, "--namespace", self.namespace, "--timeout", f"{timeout:.0f}s", "--logs",
                             *filters, timeout=timeout + 30)

    def objects(self, *kinds: Kind) -> list[dict]:
        """The release's objects of these kinds (those labelled with its instance), in that order."""
        return [obj for kind in kinds
                for obj in self.api.items(kind, self.namespace, f"app.kubernetes.io/instance={self.name}")]

    def pods(self) -> list[dict]:
        return self.objects(POD)

    def workloads(self) -> list[dict]:
        return self.objects(*ROLLOUT_KINDS)

    def not_rolled_out(self) -> list[str]:
        """'<Kind>/<name>: <detail>' of each workload that has not rolled out; [] when all have."""
        return [f"{w['kind']}/{w['metadata']['name']}: {detail}"
                for w in self.workloads() for ok, detail in [rollout_state(w)] if not ok]

    def wait_rolled_out(self, timeout: float = 180) -> None:
        try:
            wait_for(lambda: not self.not_rolled_out(), f"{self.namespace}/{self.name} to roll out", timeout, interval=1)
        except TimeoutError as err:
            raise TimeoutError(f"{err}: {'; '.join(self.not_rolled_out())}") from None

    def _deploy(self, *verb: str, overlay, values, wait, timeout, chart) -> str:
        # A cluster's base values follow this chart; an older chart (an upgrade test's start) gets
        # those it has a place for, as its schema refuses the others.
        base = self.base_values if Path(chart) == CHART else settings_known_to(Path(chart), self.base_values)
        args = [*verb, self.name, str(chart), "--namespace", self.namespace,
                *values_args(overlay, {**base, **(values or {})})]
        if wait:
            args += ["--wait", "--timeout", f"{timeout:.0f}s"]
        return self.helm.run(*args, timeout=timeout + 60)


def settings_known_to(chart: Path, settings: dict) -> dict:
    """The dotted-key `settings` whose parent map exists in the default values of `chart` (a
    directory or a packaged .tgz, its subcharts vendored as directories), in its own values.yaml
    or its subchart's: the others name what that chart does not have (a component or a setting
    added since)."""
    own, subcharts = _default_values(chart)

    def has_map(values, path: list[str]) -> bool:
        for part in path:
            values = values.get(part) if isinstance(values, dict) else None
        return isinstance(values, dict)

    def known(key: str) -> bool:
        parent = key.split(".")[:-1]
        return has_map(own, parent) or bool(parent) and has_map(subcharts.get(parent[0]), parent[1:])

    return {key: value for key, value in settings.items() if known(key)}


def _default_values(chart: Path) -> tuple[dict, dict[str, dict]]:
    """The chart's values.yaml, and each vendored subchart's by its name."""
    if chart.is_dir():
        files = {str(p.relative_to(chart)): p.read_text() for p in [chart / "values.yaml", *chart.glob("charts/*/values.yaml")]}
    else:
        with tarfile.open(chart) as archive:
            files = {m.name.split("/", 1)[1]: archive.extractfile(m).read().decode() for m in archive.getmembers()
                     if m.name.count("/") in (1, 3) and m.name.endswith("/values.yaml")}
    own = yaml.safe_load(files.pop("values.yaml")) or {}
    return own, {path.split("/")[1]: yaml.safe_load(text) or {} for path, text in files.items()}
