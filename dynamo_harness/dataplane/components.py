"""The Dynamo components both data planes run, with one set of flags: the frontend and a mocker
worker serving the tiny model, and the check that the frontend serves it (the plane's readiness)."""

from __future__ import annotations

from pathlib import Path

from .. import http_client
from ..tiny_model import MODEL


def frontend(python: str, *flags: str) -> list[str]:
    """The Dynamo frontend's command line; `flags` are the plane's own (ports, discovery, event plane)."""
    return [python, "-m", "dynamo.frontend", *flags]


def worker(python: str, model_path: str | Path, *flags: str) -> list[str]:
    """A mocker worker serving MODEL from `model_path`; `flags` are the plane's own."""
    return [python, "-m", "dynamo.mocker", "--model-path", str(model_path), "--model-name", MODEL, *flags]


def serves_model(frontend_url: str) -> bool:
    """The frontend answers completions of MODEL end to end, several in a row (http_client.serves_model)."""
    return http_client.serves_model(frontend_url, MODEL)
