"""A thin wrapper over the real kubectl (pinned by hack/bootstrap.sh), bound to one kubeconfig."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .paths import TOOLS_BIN


class KubectlError(RuntimeError):
    def __init__(self, args: tuple[str, ...], stderr: str):
        super().__init__(f"kubectl {' '.join(args)} failed:\n{stderr}")
        self.stderr = stderr


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """The status condition of type `kind` (Ready, Established, ...) of an object; {} if it has none."""
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), {})


@dataclass(frozen=True)
class Kubectl:
    kubeconfig: Path
    context: str | None = None
    binary: Path = TOOLS_BIN / "kubectl"

    def run(self, *args: str, input: str | None = None, timeout: float = 120) -> str:
        cmd = [str(self.binary), "--kubeconfig", str(self.kubeconfig)]
        if self.context:
            cmd += ["--context", self.context]
        result = subprocess.run([*cmd, *args], input=input, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise KubectlError(args, result.stderr)
        return result.stdout

    def get(self, *args: str) -> dict[str, Any]:
        return json.loads(self.run("get", *args, "-o", "json"))

    def items(self, *args: str) -> list[dict[str, Any]]:
        return self.get(*args)["items"]

    def apply(self, objects: list[dict[str, Any]], *extra: str) -> str:
        return self.run("apply", "--server-side", "--force-conflicts", *extra, "-f", "-", input=yaml.safe_dump_all(objects))

    def wait_for(self, predicate, what: str, timeout: float = 60, interval: float = 0.5,
                 not_yet: tuple[type[Exception], ...] = ()):
        return wait_for(predicate, what, timeout, interval, not_yet)


def wait_for(predicate, what: str, timeout: float = 60, interval: float = 0.5,
             not_yet: tuple[type[Exception], ...] = ()):
    """Poll predicate() until it returns a truthy value; fail with `what` after timeout. A call
    that raises one of `not_yet` (a command that cannot answer yet) counts as not there yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except not_yet:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# kwok manages (simulates) the nodes that carry this annotation: their pods run no container.
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
# The local cluster's real node (clusters/real_node.py) carries this label and taint: pods opt in
# with the toleration and node selector; nothing else lands there.
REAL_NODE_LABEL = {"dynamo-platform.test/pool": "real-node"}
REAL_NODE_TAINT = {"key": "dynamo-platform.test/real-node", "value": "true", "effect": "NoSchedule"}


def simulated(node: dict[str, Any]) -> bool:
    return KWOK_NODE_ANNOTATION in node["metadata"].get("annotations", {})


def pod_placement(pods: list[dict[str, Any]], nodes: list[dict[str, Any]]) -> str:
    """Where pods run, in words a report can print next to "ready": on which real node(s), or
    simulated by kwok (no container runs), or not scheduled."""
    by_name = {n["metadata"]["name"]: n for n in nodes}
    placed = sorted({p["spec"].get("nodeName", "") for p in pods} - {""})
    real = [name for name in placed if name in by_name and not simulated(by_name[name])]
    fake = [name for name in placed if name not in real]
    parts = ([f"running on {', '.join(real)}"] if real else []) + (["simulated (kwok): no container runs"] if fake else [])
    return "; ".join(parts) or "not scheduled"


def rollout_state(workload: dict[str, Any]) -> tuple[bool, str]:
    """Whether a Deployment, StatefulSet or DaemonSet has rolled out its current spec, with a detail.

    Rolled out means what pytest-helm-charts checks: the controller has observed the latest
    generation, and every wanted replica is updated, ready and available.
    """
    status = workload.get("status", {})
    if workload["kind"] == "DaemonSet":
        wanted = status.get("desiredNumberScheduled", 0)
        updated, ready, available = (status.get(k, 0) for k in ("updatedNumberScheduled", "numberReady", "numberAvailable"))
    else:
        wanted = workload["spec"].get("replicas", 1)
        updated, ready, available = (status.get(k, 0) for k in ("updatedReplicas", "readyReplicas", "availableReplicas"))
    observed = status.get("observedGeneration", 0) >= workload["metadata"].get("generation", 1)
    detail = f"{ready}/{wanted} ready, {updated} updated, {available} available"
    if not observed:
        detail += ", latest generation not observed yet"
    return observed and updated == ready == available == wanted, detail
