"""Minimal blocking HTTP for health checks (stdlib; the load generator uses aiohttp)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class Response:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def get(url: str, timeout: float = 5, headers: dict[str, str] | None = None,
        context: ssl.SSLContext | None = None) -> Response:
    return request("GET", url, None, timeout, headers, context)


def post_json(url: str, payload: Any, timeout: float = 30) -> Response:
    return request("POST", url, payload, timeout)


def request(method: str, url: str, payload: Any, timeout: float, headers: dict[str, str] | None = None,
            context: ssl.SSLContext | None = None) -> Response:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return Response(resp.status, resp.read().decode(errors="replace"))
    except urllib.error.HTTPError as err:
        return Response(err.code, err.read().decode(errors="replace"))


def ok(url: str, timeout: float = 2, context: ssl.SSLContext | None = None) -> bool:
    """GET answers 200; any connection error is a plain no (for readiness polling)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:
            return resp.status == 200
    except OSError:
        return False


def serves_model(frontend_url: str, model: str, in_a_row: int = 10) -> bool:
    """`in_a_row` completions succeed end to end. After a worker restart, the dead instance stays
    registered until its etcd lease expires and the frontend still routes some requests to it;
    /v1/models alone would report ready too early."""
    body = {"model": model, "prompt": "w1", "max_tokens": 1}
    try:
        return all(post_json(f"{frontend_url}/v1/completions", body, timeout=5).status == 200 for _ in range(in_a_row))
    except OSError:
        return False
