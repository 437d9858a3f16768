"""aiperf (PyPI, pinned in requirements-bench.lock) against the same endpoint as the probe: same
prompt, output length, concurrency and request count, streaming chat completions.

aiperf loads a Hugging Face tokenizer by repository id. It is handed the data plane's tiny model
through a private HF cache (offline), so nothing is downloaded and token counts come from the
server's usage chunk, as the probe's do.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .. import tiny_model
from ..conformance.inference import PROMPT
from ..paths import ROOT

AIPERF = ROOT / ".cache" / "bench-venv" / "bin" / "aiperf"
TOKENIZER_REPO = "dynamo-bench/tiny"


@dataclass
class AiperfRun:
    figures: dict  # same keys as the probe's LoadRun.figures()
    cpu_seconds: float  # user + system time of aiperf and its worker processes
    wall_seconds: float  # whole command, start-up included


def unavailable() -> str | None:
    return None if AIPERF.exists() else f"{AIPERF} missing: run `hack/bootstrap.sh --with-bench` (make bench does)"


def hf_cache(model_dir: Path, cache: Path) -> Path:
    """A Hugging Face cache holding model_dir's tokenizer as TOKENIZER_REPO; returns HF_HOME."""
    tiny_model.publish(model_dir, cache / "hub", TOKENIZER_REPO)
    return cache


def run(url: str, model: str, *, concurrency: int, requests: int, max_tokens: int, hf_home: Path, out: Path,
        timeout: float = 600) -> AiperfRun:
    out.mkdir(parents=True, exist_ok=True)
    prompts = out / "prompts.jsonl"
    prompts.write_text(json.dumps({"text": PROMPT, "output_length": max_tokens}) + "\n")
    argv = [str(AIPERF), "profile", "--model", model, "--url", url, "--endpoint-type", "chat", "--streaming",
            "--tokenizer", TOKENIZER_REPO, "--use-server-token-count", "--use-legacy-max-tokens",
            "--input-file", str(prompts), "--custom-dataset-type", "single_turn",
            "--concurrency", str(concurrency), "--request-count", str(requests),
            "--output-artifact-dir", str(out / "artifacts"),
            "--ui-type", "none", "--no-auto-plot",
            # Lean settings: on a small host aiperf's own processes compete with the server for CPU.
            "--no-server-metrics", "--no-gpu-telemetry", "--workers-max", "1", "--record-processor-service-count", "1"]
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    (out / "aiperf.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"aiperf failed (exit {result.returncode}), see {out / 'aiperf.log'}:\n{result.stderr[-2000:]}")
    export = json.loads((out / "artifacts" / "profile_export_aiperf.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return AiperfRun(figures(export, concurrency), cpu, wall)


def figures(export: dict, concurrency: int) -> dict:
    """aiperf's export in the probe's figure names (ms, tokens/s, requests/s)."""
    out = {
        "concurrency": concurrency,
        "requests": int(export["request_count"]["avg"]),
        "errors": sum(e.get("count", 0) for e in export.get("error_summary") or []),
        "output_tokens_per_s": round(export["output_token_throughput"]["avg"], 1),
        "requests_per_s": round(export["request_throughput"]["avg"], 2),
    }
    for key, metric in (("ttft_ms", "time_to_first_token"), ("itl_ms", "inter_token_latency"), ("latency_ms", "request_latency")):
        for q in (50, 90, 99):
            out[f"{key}_p{q}"] = round(export[metric][f"p{q}"], 3)
        out[f"{key}_mean"] = export[metric]["avg"]
    return out
