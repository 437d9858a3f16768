"""The Dynamo components both data planes run, with one set of flags: the frontend and a mocker
worker serving the tiny model, and the check that the frontend serves it (the plane's readiness)."""

from __future__ import annotations

from pathlib import Path

import requests

from ..processes import accepts
from ..tiny_model import MODEL


def frontend(python: str, *flags: str) -> list[str]:
    """The Dynamo frontend's command line; `flags` are the plane's own (ports, discovery, event plane)."""
    return [python, "-m", "dynamo.frontend", *flags]


def worker(python: str, model_path: str | Path, *flags: str) -> list[str]:
    """A mocker worker serving MODEL from `model_path`; `flags` are the plane's own."""
    return [python, "-m", "dynamo.mocker", "--model-path", str(model_path), "--model-name", MODEL, *flags]


def serves_model(frontend_url: str, in_a_row: int = 10) -> bool:
    """The frontend answers `in_a_row` completions of MODEL end to end. After a worker restart, the
    dead instance stays registered until its etcd lease expires and the frontend still routes some
    requests to it; /v1/models alone would report ready too early."""
    body = {"model": MODEL, "prompt": "w1", "max_tokens": 1}
    try:
        return all(requests.post(f"{frontend_url}/v1/completions", json=body, timeout=5).status_code == 200
                   for _ in range(in_a_row))
    except requests.RequestException:
        return False


def unreachable_workers(frontend_url: str) -> list[str]:
    """The request-plane addresses (host:port) of the worker instances the frontend routes to (its
    /health `instances` of the `generate` endpoint) that refuse a connection: a dead worker that the
    frontend's discovery still lists."""
    instances = requests.get(f"{frontend_url}/health", timeout=5).json().get("instances", [])
    addresses = {i["transport"]["tcp"].split("/", 1)[0] for i in instances
                 if i.get("endpoint") == "generate" and "tcp" in i.get("transport", {})}
    return sorted(address for address in addresses if not accepts(*_host_port(address)))


def _host_port(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)

