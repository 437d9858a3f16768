"""Putting a rendered DynamoGraphDeployment on a cluster and taking it off again."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..kube import REAL_NODE_TAINT, Kubectl, KubectlError, condition, simulated


def validate(kubectl: Kubectl, manifest: dict[str, Any]) -> None:
    """Server-side dry run: the installed CRD schema (and webhooks, where an operator answers) judge it."""
    kubectl.apply([manifest], "--dry-run=server")


def apply(kubectl: Kubectl, manifest: dict[str, Any]) -> None:
    kubectl.apply([manifest])


def ensure_hf_token_secret(kubectl: Kubectl, namespace: str, name: str, token: str | None) -> str:
    """Create or update the Secret the workers read HF_TOKEN from. No token: a warning, not a failure
    (public models need none). The token travels on stdin, never on a command line."""
    if not token:
        return f"warning: HF_TOKEN is not set; {namespace}/{name} left as it is (gated models will fail to download)"
    kubectl.apply([{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": {"name": name, "namespace": namespace,
                                 "labels": {"app.kubernetes.io/managed-by": "dynamo-harness"}},
                    "stringData": {"HF_TOKEN": token}}])
    return f"Secret {namespace}/{name} holds HF_TOKEN"


def ready_state(kubectl: Kubectl, namespace: str, name: str) -> tuple[bool, str]:
    dgd = kubectl.get("dynamographdeployment", name, "-n", namespace)
    ready = condition(dgd, "Ready")
    detail = f"state={dgd.get('status', {}).get('state', 'pending')} Ready={ready.get('status', 'Unknown')}"
    if ready.get("message"):
        detail += f" ({ready['message']})"
    return ready.get("status") == "True", detail


def wait_ready(kubectl: Kubectl, namespace: str, name: str, timeout: float,
               progress: Callable[[str], None] = print, interval: float = 5) -> bool:
    """Poll the DGD's Ready condition, reporting each change of state, until Ready (True) or timeout (False)."""
    reported = ""

    def ready() -> bool:
        nonlocal reported
        ok, detail = ready_state(kubectl, namespace, name)
        if detail != reported:
            progress(f"{namespace}/{name}: {detail}")
            reported = detail
        return ok

    try:
        kubectl.wait_for(ready, f"{namespace}/{name} Ready", timeout, interval)
        return True
    except TimeoutError:
        return False


def undeploy(kubectl: Kubectl, namespace: str, name: str, wait: bool = True) -> bool:
    """Delete the DGD; False when there was none."""
    try:
        kubectl.run("delete", "dynamographdeployment", name, "-n", namespace, f"--wait={str(wait).lower()}", timeout=300)
        return True
    except KubectlError as err:
        if "NotFound" in err.stderr:
            return False
        raise


def dgd_nodes(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nodes a DGD's pods can land on. The local cluster's real node takes only pods that
    tolerate its taint (the platform's etcd and NATS), never a DGD's, so it does not count."""
    return [n for n in nodes if REAL_NODE_TAINT["key"] not in {t["key"] for t in n.get("spec", {}).get("taints", [])}]


def simulated_nodes(kubectl: Kubectl) -> bool:
    """True when every node a DGD's pods can land on is simulated (kwok): objects are real, but no
    container ever runs."""
    nodes = dgd_nodes(kubectl.items("nodes"))
    return bool(nodes) and all(simulated(n) for n in nodes)


@contextmanager
def port_forward(kubectl: Kubectl, namespace: str, service: str, port: int) -> Iterator[str]:
    """Forward a free port on 127.0.0.1 to the Service; yields the local base URL."""
    cmd = [str(kubectl.binary), "--kubeconfig", str(kubectl.kubeconfig), *(["--context", kubectl.context] if kubectl.context else []),
           "port-forward", "--address", "127.0.0.1",
           "-n", namespace, f"svc/{service}", f":{port}"]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        found = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not found:
            raise KubectlError(tuple(cmd[3:]), line or "port-forward exited")
        yield f"http://127.0.0.1:{found.group(1)}"
    finally:
        process.terminate()
        process.wait(timeout=10)
