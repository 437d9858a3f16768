"""The Dynamo components both data planes run, with one set of flags: the frontend and a mocker
worker serving the tiny model, and the check that the frontend serves it (the plane's readiness)."""

from __future__ import annotations

from pathlib import Path

import requests

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
