"""Inference probes against an OpenAI-compatible Dynamo frontend.

Functional checks (models, chat and completions, streaming and not, usage, a bad model name)
and a load measurement (TTFT, inter-token latency, request latency, tokens/s, percentiles) at a
chosen concurrency. Load is bounded by a request count and a deadline, whichever comes first.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import requests

from ..results import Outcome, ProbeResult, failed, passed, timed
from .sse import DONE, events

PROMPT = "w1 w2 w3 w4 w5 w6 w7 w8"
# Seconds the blocking checks wait for an answer: the model list, a whole completion.
GET_TIMEOUT = 5
POST_TIMEOUT = 30


def functional(url: str, model: str, max_tokens: int = 8) -> list[ProbeResult]:
    return [
        timed("inference/models", lambda: _models(url, model)),
        timed("inference/chat", lambda: _blocking(url, model, "chat", max_tokens)),
        timed("inference/chat-stream", lambda: asyncio.run(_streaming_check(url, model, "chat", max_tokens))),
        timed("inference/completions", lambda: _blocking(url, model, "completions", max_tokens)),
        timed("inference/completions-stream", lambda: asyncio.run(_streaming_check(url, model, "completions", max_tokens))),
        timed("inference/unknown-model", lambda: _unknown_model(url)),
    ]


def _models(url: str, model: str) -> Outcome:
    resp = requests.get(f"{url}/v1/models", timeout=GET_TIMEOUT)
    ids = [m["id"] for m in resp.json().get("data", [])] if resp.status_code == 200 else []
    if model in ids:
        return passed(f"serves {ids}")
    return failed(f"{model!r} not in {ids} (HTTP {resp.status_code})")


def request_body(kind: str, model: str, max_tokens: int, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "stream": stream}
    if kind == "chat":
        body["messages"] = [{"role": "user", "content": PROMPT}]
    else:
        body["prompt"] = PROMPT
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def endpoint(url: str, kind: str) -> str:
    return f"{url}/v1/chat/completions" if kind == "chat" else f"{url}/v1/completions"


def _blocking(url: str, model: str, kind: str, max_tokens: int) -> Outcome:
    resp = requests.post(endpoint(url, kind), json=request_body(kind, model, max_tokens, stream=False),
                         timeout=POST_TIMEOUT)
    if resp.status_code != 200:
        return failed(f"HTTP {resp.status_code}: {resp.text[:200]}")
    body = resp.json()
    usage = body.get("usage") or {}
    if not body.get("choices"):
        return failed("no choices in the response")
    if usage.get("total_tokens") != usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0):
        return failed(f"usage does not add up: {usage}")
    if not 0 < usage.get("completion_tokens", 0) <= max_tokens:
        return failed(f"completion_tokens {usage.get('completion_tokens')} outside 1..{max_tokens}")
    return passed(f"{usage['completion_tokens']} tokens", **usage)


async def _streaming_check(url: str, model: str, kind: str, max_tokens: int) -> Outcome:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        sample = await one_request(session, url, model, kind, max_tokens)
    if not sample.ok:
        return failed(sample.error)
    if not sample.done:
        return failed("stream ended without data: [DONE]")
    if sample.usage.get("completion_tokens") != sample.content_chunks:
        return failed(f"usage.completion_tokens {sample.usage.get('completion_tokens')} != {sample.content_chunks} content chunks")
    return passed(f"{sample.content_chunks} chunks, [DONE] seen", ttft_ms=round(sample.ttft * 1000, 2))


def _unknown_model(url: str) -> Outcome:
    """A request for a model nobody serves must get a client error with a message, not a hang or 5xx."""
    resp = requests.post(endpoint(url, "chat"), json=request_body("chat", "no-such-model", 4, stream=False),
                         timeout=POST_TIMEOUT)
    try:
        message = resp.json().get("message") or resp.json().get("error")
    except ValueError:
        message = None
    if 400 <= resp.status_code < 500 and message:
        return passed(f"HTTP {resp.status_code}: {str(message)[:80]}")
    return failed(f"expected a 4xx with an error message, got HTTP {resp.status_code}: {resp.text[:200]}")


@dataclass
class Sample:
    ok: bool = False
    error: str = ""
    started: float = 0.0
    ended: float = 0.0  # when it completed or failed (perf_counter, like started)
    ttft: float = 0.0
    latency: float = 0.0
    itls: list[float] = field(default_factory=list)
    content_chunks: int = 0
    done: bool = False
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def output_tokens(self) -> int:
        return self.usage.get("completion_tokens", self.content_chunks)


async def one_request(session: aiohttp.ClientSession, url: str, model: str, kind: str, max_tokens: int) -> Sample:
    """One streaming request, timing the first and every following content chunk."""
    sample = Sample(started=time.perf_counter())
    last = sample.started
    try:
        async with session.post(endpoint(url, kind), json=request_body(kind, model, max_tokens, stream=True)) as resp:
            if resp.status != 200:
                sample.error = f"HTTP {resp.status}: {(await resp.text())[:200]}"
                sample.ended = time.perf_counter()
                return sample
            async for data in events(resp.content):
                if data == DONE:
                    sample.done = True
                    break
                chunk = json.loads(data)
                if chunk.get("usage"):
                    sample.usage = chunk["usage"]
                if _has_content(chunk, kind):
                    now = time.perf_counter()
                    if sample.content_chunks == 0:
                        sample.ttft = now - sample.started
                    else:
                        sample.itls.append(now - last)
                    last = now
                    sample.content_chunks += 1
        sample.latency = time.perf_counter() - sample.started
        sample.ok = sample.content_chunks > 0
        if not sample.ok:
            sample.error = "stream carried no content"
    except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError) as err:
        sample.error = f"{type(err).__name__}: {err}"
    sample.ended = time.perf_counter()
    return sample


def _has_content(chunk: dict[str, Any], kind: str) -> bool:
    for choice in chunk.get("choices", []):
        piece = choice.get("delta", {}).get("content") if kind == "chat" else choice.get("text")
        if piece:
            return True
    return False


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class LoadRun:
    concurrency: int
    samples: list[Sample]
    wall_seconds: float

    def figures(self) -> dict[str, Any]:
        ok = [s for s in self.samples if s.ok]
        figures: dict[str, Any] = {
            "concurrency": self.concurrency,
            "requests": len(self.samples),
            "errors": len(self.samples) - len(ok),
            "wall_s": round(self.wall_seconds, 3),
            "requests_per_s": round(len(ok) / self.wall_seconds, 2) if self.wall_seconds else 0.0,
            "output_tokens_per_s": round(sum(s.output_tokens for s in ok) / self.wall_seconds, 1) if self.wall_seconds else 0.0,
        }
        # ITL per request: (last token - first token) / (tokens - 1), the definition aiperf and genai-perf use.
        series = {"ttft_ms": [s.ttft for s in ok], "itl_ms": [sum(s.itls) / len(s.itls) for s in ok if s.itls],
                  "latency_ms": [s.latency for s in ok]}
        for key, values in series.items():
            for q in (50, 90, 99):
                figures[f"{key}_p{q}"] = round(percentile(values, q) * 1000, 3) if values else None
        return figures


def load(url: str, model: str, *, concurrency: int, requests: int, max_seconds: float,
         max_tokens: int = 32, kind: str = "chat") -> LoadRun:
    """`requests` streaming requests, `concurrency` at a time, stopping early at `max_seconds`."""
    return asyncio.run(_load(url, model, concurrency, requests, max_seconds, max_tokens, kind))


async def _load(url, model, concurrency, requests, max_seconds, max_tokens, kind) -> LoadRun:
    deadline = time.perf_counter() + max_seconds
    remaining = iter(range(requests))
    samples: list[Sample] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=max_seconds + 30)) as session:

        async def worker() -> None:
            for _ in remaining:
                if time.perf_counter() > deadline:
                    return
                samples.append(await one_request(session, url, model, kind, max_tokens))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return LoadRun(concurrency, samples, wall)


def load_probe(url: str, model: str, *, concurrency: int, requests: int, max_seconds: float, max_tokens: int = 32) -> tuple[ProbeResult, LoadRun | None]:
    run: LoadRun | None = None

    def check() -> Outcome:
        nonlocal run
        run = load(url, model, concurrency=concurrency, requests=requests, max_seconds=max_seconds, max_tokens=max_tokens)
        figures = run.figures()
        errors = [s.error for s in run.samples if not s.ok]
        if not run.samples or errors:
            return failed(f"{len(errors)}/{len(run.samples)} requests failed: {errors[:1]}", **figures)
        return passed(f"{figures['requests']} requests, p50 TTFT {figures['ttft_ms_p50']} ms, "
                      f"{figures['output_tokens_per_s']} tokens/s", **figures)

    return timed(f"inference/load-c{concurrency}", check), run
