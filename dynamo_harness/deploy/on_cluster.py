"""Putting a rendered DynamoGraphDeployment on a cluster and taking it off again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..kube import REAL_NODE_TAINT, condition, simulated
from ..kube_api import DGD, NODE, KubeApi


def validate(api: KubeApi, manifest: dict[str, Any]) -> None:
    """Server-side dry run: the installed CRD schema (and webhooks, where an operator answers) judge it."""
    api.apply([manifest], dry_run=True)


def apply(api: KubeApi, manifest: dict[str, Any]) -> None:
    api.apply([manifest])


def ensure_hf_token_secret(api: KubeApi, namespace: str, name: str, token: str | None) -> str:
    """Create or update the Secret the workers read HF_TOKEN from. No token: a warning, not a failure
    (public models need none). The token travels in the request body, never on a command line."""
    if not token:
        return f"warning: HF_TOKEN is not set; {namespace}/{name} left as it is (gated models will fail to download)"
    api.apply([{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": namespace,
                             "labels": {"app.kubernetes.io/managed-by": "dynamo-harness"}},
                "stringData": {"HF_TOKEN": token}}])
    return f"Secret {namespace}/{name} holds HF_TOKEN"


def ready_detail(dgd: dict[str, Any]) -> tuple[bool, str]:
    """Whether a DGD object is Ready, with its state in words."""
    ready = condition(dgd, "Ready")
    detail = f"state={dgd.get('status', {}).get('state', 'pending')} Ready={ready.get('status', 'Unknown')}"
    if ready.get("message"):
        detail += f" ({ready['message']})"
    return ready.get("status") == "True", detail


def ready_state(api: KubeApi, namespace: str, name: str) -> tuple[bool, str]:
    return ready_detail(api.get(DGD, name, namespace))


def wait_ready(api: KubeApi, namespace: str, name: str, timeout: float,
               progress: Callable[[str], None] = print) -> bool:
    """Watch the DGD's Ready condition, reporting each change of state, until Ready (True) or timeout (False)."""
    reported = ""

    def ready(dgd: dict[str, Any] | None) -> bool:
        nonlocal reported
        ok, detail = ready_detail(dgd) if dgd is not None else (False, "not found")
        if detail != reported:
            progress(f"{namespace}/{name}: {detail}")
            reported = detail
        return ok

    try:
        api.watch_until(DGD, name, namespace, ready, timeout)
        return True
    except TimeoutError:
        return False


def undeploy(api: KubeApi, namespace: str, name: str, wait: bool = True) -> bool:
    """Delete the DGD; False when there was none."""
    return api.delete(DGD, name, namespace, wait=wait, timeout=300)


def dgd_nodes(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nodes a DGD's pods can land on. The local cluster's real node takes only pods that
    tolerate its taint (the platform's etcd and NATS), never a DGD's, so it does not count."""
    return [n for n in nodes if REAL_NODE_TAINT["key"] not in {t["key"] for t in n.get("spec", {}).get("taints", [])}]


def simulated_nodes(api: KubeApi) -> bool:
    """True when every node a DGD's pods can land on is simulated (kwok): objects are real, but no
    container ever runs."""
    nodes = dgd_nodes(api.items(NODE))
    return bool(nodes) and all(simulated(n) for n in nodes)


@contextmanager
def port_forward(api: KubeApi, namespace: str, service: str, port: int) -> Iterator[str]:
    """Forward a free port on 127.0.0.1 to the Service (in this process); yields the local base URL."""
    with api.port_forward(namespace, service, port) as url:
        yield url
