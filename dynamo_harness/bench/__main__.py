"""make bench: how fast the chart and the harness give an answer, and how their load figures
compare with aiperf on the same endpoint. Each figure is measured over several runs and shown as
min / median / max; results go to bench/results.json and bench/results.md (gitignored). Timings
are never asserted anywhere: this prints, it does not pass or fail on speed.

Sections: tests (the seconds of each test layer in the JUnit files of the last `make test`, against
its 9-minute budget), chart (render every overlay, the template test suite), cluster (local control
plane cold and warm start, helm install to ready; optionally the first build), inference (the probe
vs aiperf at each concurrency on the embedded mocker, with ratios; the probe's own CPU per request
and the request rate it can drive against an instant server).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import requests

from .. import images
from ..clusters import real_node
from ..clusters.local import LocalCluster
from ..conformance import inference
from ..dataplane import MODEL
from ..dataplane.embedded import EmbeddedDataPlane
from ..helm import Helm
from ..paths import ROOT, overlay_names
from ..helm_release import NO_STORAGE_MIGRATION, Release
from ..kube import condition
from ..kube_api import CRD, NODE, PERSISTENT_VOLUME_CLAIM, POD
from ..processes import Supervisor, answers, free_port
from . import aiperf

OUT = ROOT / "bench"
CONCURRENCIES = (1, 8, 32)
MAX_TOKENS = 32
# Figures compared between the probe and aiperf; at concurrency 32 they should agree within 5%.
COMPARED = ("ttft_ms_p50", "ttft_ms_p90", "itl_ms_p50", "latency_ms_p50", "latency_ms_p90",
            "output_tokens_per_s", "requests_per_s")
AGREEMENT = 0.05


def spread(values: list[float]) -> dict:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3), "runs": len(values)}


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# -- tests ---------------------------------------------------------------------------------

REPORTS = ROOT / "reports"
# The JUnit files of `make test PYTEST_ARGS="--junitxml=reports/junit.xml"` (what .ci/run runs): its two
# streams, run side by side, each a sequence of pytest runs (every layer but up with the install
# layer on a kwok-only cluster, then the Helm 3 template pass; the install tests on the real node,
# then the up layer); with the suffix that names each file's layers.
JUNIT_STREAMS = ({"junit.xml": "", "junit-helm3.xml": " (Helm 3)"},
                 {"junit-real-node.xml": " (real node)", "junit-up.xml": ""})
JUNIT_FILES = {name: suffix for stream in JUNIT_STREAMS for name, suffix in stream.items()}
MAKES_JUNIT = '.ci/run (make test PYTEST_ARGS="--junitxml=reports/junit.xml")'
TEST_BUDGET_S = 540  # `make test` on 2 cores with warm tool caches: 9 minutes


def junit_layers(path: Path, suffix: str = "") -> dict:
    """One JUnit file: its run's wall time, and per test layer (the tests/<layer>/ directory, as
    tests/conftest.py marks them) the count of tests, skipped and failed, and the sum of their
    times. A test's time is its setup, call and teardown, so a fixture's start-up (a cluster, a
    data plane) counts in the first test that uses it."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    layers: dict[str, dict] = {}
    for case in root.iter("testcase"):
        parts = case.get("classname", "").split(".")
        layer = (parts[1] if len(parts) > 2 and parts[0] == "tests" else "other") + suffix
        entry = layers.setdefault(layer, {"tests": 0, "skipped": 0, "failed": 0, "seconds": 0.0})
        entry["tests"] += 1
        entry["skipped"] += case.find("skipped") is not None
        entry["failed"] += case.find("failure") is not None or case.find("error") is not None
        entry["seconds"] += float(case.get("time") or 0)
    return {"wall_s": round(sum(float(s.get("time") or 0) for s in suites), 3), "layers": layers}


def tests_section(reports: Path = REPORTS) -> dict:
    """The time per test layer of the last `make test` that wrote JUnit files, and each layer's share
    of the budget; nothing is run."""
    files = {name: suffix for name, suffix in JUNIT_FILES.items() if (reports / name).exists()}
    if "junit.xml" not in files:
        return {"missing": f"no {reports / 'junit.xml'}: {MAKES_JUNIT} writes the JUnit files this section reads"}
    runs, layers = {}, {}
    for name, suffix in files.items():
        found = junit_layers(reports / name, suffix)
        written = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((reports / name).stat().st_mtime))
        runs[name] = {"wall_s": found["wall_s"], "written": written}
        for layer, entry in found["layers"].items():
            layers[layer] = {**entry, "seconds": round(entry["seconds"], 3),
                             "budget_share": round(entry["seconds"] / TEST_BUDGET_S, 4)}
    total = max(sum(runs[name]["wall_s"] for name in stream if name in runs) for stream in JUNIT_STREAMS)
    return {"budget_s": TEST_BUDGET_S, "runs": runs, "layers": layers, "total_s": round(total, 3),
            "budget_share": round(total / TEST_BUDGET_S, 4),
            "absent": [name for name in JUNIT_FILES if name not in files]}


# -- chart ---------------------------------------------------------------------------------

def chart_section(runs: int) -> dict:
    helm = Helm()
    overlays = [None, *overlay_names()]
    log(f"rendering {len(overlays)} value sets x {runs}")
    render = [timed(lambda: [helm.template(overlay=o) for o in overlays]) for _ in range(runs)]
    log(f"template test suite x {runs}")
    suite = [timed(lambda: subprocess.run([sys.executable, "-m", "pytest", "-m", "template", "-n", "auto", "-q",
                                           "-p", "no:cacheprovider"], cwd=ROOT, check=True, capture_output=True))
             for _ in range(runs)]
    return {"render_all_overlays_s": {**spread(render), "value_sets": len(overlays)},
            "template_suite_s": spread(suite)}


# -- cluster -------------------------------------------------------------------------------

def first_build_s() -> float:
    """Rebuild the three control-plane binaries into a temp dir (the Go build cache is warm after bootstrap)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["go", "build", "-trimpath", "-o", tmp + "/", "k8s.io/kubernetes/cmd/kube-apiserver",
               "k8s.io/kubernetes/cmd/kube-controller-manager", "k8s.io/kubernetes/cmd/kube-scheduler"]
        return timed(lambda: subprocess.run(cmd, cwd=ROOT / "hack" / "tools" / "kube", check=True, capture_output=True,
                                            env={**os.environ, "GOFLAGS": "-mod=readonly"}))


def cluster_section(runs: int, build: bool) -> dict:
    cluster = LocalCluster(state_dir=ROOT / ".cache" / "bench-cluster")
    cold, warm, install = [], [], []
    try:
        for i in range(runs):
            log(f"local cluster cold start {i + 1}/{runs}")
            cluster.down()
            cold.append(timed(cluster.up))
            warm.append(timed(cluster.up))  # a healthy cluster is found and reused
        # Same release and namespace each run: the kept CRDs belong to it. The data PVCs are deleted
        # between runs, so every run is a first install.
        release = Release(cluster.kubectl, namespace="bench", base_values=NO_STORAGE_MIGRATION)
        for i in range(runs):
            log(f"helm install --wait {i + 1}/{runs}")
            cluster.prepare_install()
            install.append(timed(lambda: release.install("kind")))
            release.uninstall()
            for pvc in release.api.items(PERSISTENT_VOLUME_CLAIM, "bench"):
                release.api.delete(PERSISTENT_VOLUME_CLAIM, pvc["metadata"]["name"], "bench")
    finally:
        cluster.down()
    result = {"cold_start_s": spread(cold), "warm_start_s": spread(warm), "install_to_ready_s": spread(install),
              "first_build_s": None}
    if build:
        log("first build of the control plane (warm Go cache)")
        result["first_build_s"] = spread([first_build_s()])
    return result


def node_section(runs: int) -> dict:
    """The real node alone: kubelet start to node Ready, and a pod's create to Ready on it."""
    cluster = LocalCluster(state_dir=ROOT / ".cache" / "bench-cluster")
    try:
        cluster.up()
        if not cluster.real_node:
            return {"mode": f"kwok-only: {cluster.node_mode}"}
        ready, pod_start = [], []
        for i in range(runs):
            log(f"real node start to Ready {i + 1}/{runs}")
            cluster.node.down()
            ready.append(timed(cluster.start_node))
            pod_start.append(timed(lambda: start_pod(cluster)))
        return {"mode": "real node", "node_ready_s": spread(ready), "pod_start_s": spread(pod_start)}
    finally:
        cluster.down()


def start_pod(cluster: LocalCluster) -> None:
    """Create a pod from a locally built image on the real node, wait for Ready, delete it."""
    name = f"bench-{time.monotonic_ns()}"
    api = cluster.api
    api.apply([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": {
        "nodeSelector": real_node.LABEL, "tolerations": [{**real_node.TAINT, "operator": "Equal"}],
        "containers": [{"name": "pause", "image": images.RECIPES["pause"].ref, "imagePullPolicy": "Never"}]}}])
    try:
        api.watch_until(POD, name, "default", lambda pod: pod and condition(pod, "Ready").get("status") == "True", 120)
    finally:
        api.delete(POD, name, "default", grace_period=0)


def kind_section() -> dict:
    """The multi-node kind cluster: its start (cold when none runs, else the kept one found), and
    the memory and CPU its node containers use, idle and with aks-spot's HA release (3 etcd, 3
    NATS) and the serving plane (2 frontends, 2 mockers) on it. A cluster this section created is
    deleted at the end."""
    from ..clusters.kind import KindCluster
    from ..ha import report, serving
    from ..kube import simulated
    from ..ha.shape import HaRelease

    cluster = KindCluster()
    if reason := cluster.unavailable():
        return {"missing": f"kind cannot run here: {reason}"}
    started = time.monotonic()
    created = cluster.up()
    result: dict = {"start": "cold: node image built or loaded, cluster created" if created else "a kept cluster found",
                    "start_s": round(time.monotonic() - started, 1), "timings": cluster.timings,
                    "nodes": sum(not simulated(n) for n in cluster.api.items(NODE)),
                    "ha_runs": report.budgets()}
    namespace = "bench-kind"
    # The Dynamo CRDs (the serving plane's DynamoWorkerMetadata): this release's, unless a kept
    # cluster's release owns them already.
    crds_there = any(c["metadata"]["name"].endswith(".nvidia.com") for c in cluster.api.items(CRD))
    release = Release(cluster.kubectl, "dynamo-platform", namespace,
                      {"dynamo-operator.crds.enabled": not crds_there, **cluster.install_values()})
    try:
        result["idle"] = node_usage(cluster)
        log("kind: aks-spot's HA release and the serving plane")
        release.install(["aks-spot", "local/kind-images"], wait=True, timeout=600)
        cluster.load_images(["dynamo"])
        plane = serving.serving_plane(HaRelease(cluster.kubectl, namespace))
        plane.up(timeout=420)
        result["serving"] = node_usage(cluster)
        plane.down()
    finally:
        release.uninstall(wait=False)
        if created:
            cluster.down()
    return result


KIND_CREATE_GOAL_S = 90  # multi-node create to Ready, warm, on 2 cores (issue 21's budget)


def kind_budget_rows(kind: dict) -> list[str]:
    """The kind budgets: node image (cold when this run built it), create to Ready against its goal,
    the chart's images, and from each overlay's last HA run (reports/ha/) its install and recoveries."""
    timings = kind.get("timings", {})
    rows = ["| budget | seconds | note |", "| --- | --- | --- |"]
    if image := timings.get("node_image"):
        state = {"built": "cold: built from pinned sources", "loaded": "warm: loaded from .cache/images",
                 "present": "warm: already in the private dockerd"}[image["how"]]
        rows.append(f"| kind node image | {image['s']} | {state} |")
    if "create_to_ready_s" in timings:
        rows.append(f"| `kind create cluster` to every node Ready | {timings['create_to_ready_s']} | "
                    f"goal under {KIND_CREATE_GOAL_S} s warm on 2 cores |")
    if "chart_images_s" in timings:
        rows.append(f"| chart images into every node (`kind load`) | {timings['chart_images_s']} | |")
    if not timings:
        rows.append("| cluster start | - | a kept cluster was found: nothing created, nothing to time |")
    for overlay, run in kind.get("ha_runs", {}).items():
        written = time.strftime("%Y-%m-%d %H:%M", time.gmtime(run["written"]))
        rows.append(f"| {overlay}: install to ready | {_seconds(run['install_s'])} | last HA run, {written} UTC |")
        rows += [f"| {overlay}: {fault} recovery | {_seconds(seconds)} | after the repair |"
                 for fault, seconds in run["recovery_s"].items()]
    return rows


def _seconds(value: float | None) -> str:
    return "-" if value is None else str(value)


def node_usage(cluster, samples: int = 3) -> dict:
    """Memory (MiB) and CPU (% of one core) of the node containers, from `docker stats` (median of
    `samples`), their sums, and the host's memory in use and cores."""
    per_node: dict[str, list[tuple[float, float]]] = {}
    for _ in range(samples):
        out = cluster.engine.docker("stats", "--no-stream", "--format", "{{json .}}").stdout
        for line in out.splitlines():
            row = json.loads(line)
            used = row["MemUsage"].split("/")[0].strip()
            per_node.setdefault(row["Name"], []).append((_mebibytes(used), float(row["CPUPerc"].rstrip("%"))))
    nodes = {name: {"memory_mib": round(statistics.median(m for m, _ in values)),
                    "cpu_percent": round(statistics.median(c for _, c in values), 1)} for name, values in per_node.items()}
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    total, available = (int(meminfo[k].split()[0]) // 1024 for k in ("MemTotal", "MemAvailable"))
    return {"nodes": nodes, "memory_mib": sum(n["memory_mib"] for n in nodes.values()),
            "cpu_percent": round(sum(n["cpu_percent"] for n in nodes.values()), 1),
            "host": f"{os.cpu_count()} cores, {total} MiB, {total - available} MiB in use"}


def _mebibytes(text: str) -> float:
    units = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "kB": 1000 / 2**20, "MB": 1e6 / 2**20, "GB": 1e9 / 2**20}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def make_up_section() -> dict:
    """`make up` from `make down` (tools and images built): everything started, installed and probed.
    BENCH_COLD=1 also times it in a fresh clone with nothing built (Go, pip and apt caches as they are)."""
    result = {}
    run = lambda *cmd, cwd=ROOT: subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)  # noqa: E731
    log("make up from make down (warm), then again on the running cluster")
    run("make", "down")
    result["warm_s"] = spread([timed(lambda: run("make", "up"))])
    result["again_s"] = spread([timed(lambda: run("make", "up"))])
    run("make", "down")
    if os.environ.get("BENCH_COLD") == "1":
        with tempfile.TemporaryDirectory(prefix="bench-clone-") as clone:
            log(f"make up in a fresh clone ({clone}): nothing built")
            run("git", "clone", "--quiet", str(ROOT), clone)
            try:
                result["cold_s"] = spread([timed(lambda: run("make", "up", cwd=clone))])
            finally:
                run("make", "down", cwd=clone)
    return result


# -- inference -----------------------------------------------------------------------------

def probe_run(url: str, model: str, concurrency: int, requests: int) -> tuple[dict, float]:
    """The probe's figures (plus client-side means, for the server-side check) and its CPU seconds."""
    cpu = time.process_time()
    run = inference.load(url, model, concurrency=concurrency, requests=requests, max_seconds=120, max_tokens=MAX_TOKENS)
    cpu = time.process_time() - cpu
    ok = [s for s in run.samples if s.ok]
    means = {"ttft_ms_mean": statistics.mean(s.ttft for s in ok) * 1000,
             "latency_ms_mean": statistics.mean(s.latency for s in ok) * 1000,
             "itl_ms_mean": statistics.mean(i for s in ok for i in s.itls) * 1000}
    return {**run.figures(), **means}, cpu


SERVER_METRICS = {"ttft_ms_mean": "dynamo_frontend_time_to_first_token_seconds",
                  "latency_ms_mean": "dynamo_frontend_request_duration_seconds",
                  "itl_ms_mean": "dynamo_frontend_inter_token_latency_seconds"}


def server_counters(frontend: str) -> dict[str, float]:
    """Sums and counts of the frontend's own latency histograms (the referee for both clients)."""
    found: dict[str, float] = {}
    for line in requests.get(frontend + "/metrics", timeout=5).text.splitlines():
        name, _, value = line.rpartition(" ")
        base = name.split("{", 1)[0]
        if base.endswith(("_sum", "_count")) and base.rsplit("_", 1)[0] in SERVER_METRICS.values():
            found[base] = found.get(base, 0.0) + float(value)
    return found


def server_means(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    means = {}
    for key, metric in SERVER_METRICS.items():
        count = after.get(f"{metric}_count", 0) - before.get(f"{metric}_count", 0)
        if count:
            means[key] = (after[f"{metric}_sum"] - before.get(f"{metric}_sum", 0)) / count * 1000
    return means


def fidelity(client: dict, server: dict) -> dict[str, float]:
    """Client-measured mean / server-measured mean for the same requests (1.0 = no measurement error)."""
    return {key: round(client[key] / server[key], 4) for key in SERVER_METRICS if client.get(key) and server.get(key)}


ALL_CPUS = sorted(os.sched_getaffinity(0))


def split_cpus(server_groups: set[int | None]) -> str:
    """Pin the server's process groups to all CPUs but the last and this process (and so aiperf) to
    the last, so no load generator takes CPU from the server it measures. Returns the placement."""
    if len(ALL_CPUS) < 2:
        return "not split: one CPU"
    server, client = set(ALL_CPUS[:-1]), {ALL_CPUS[-1]}
    os.sched_setaffinity(0, set(ALL_CPUS))
    groups = server_groups - {None}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.getpgid(int(proc.name)) in groups:
                for task in (proc / "task").iterdir():
                    os.sched_setaffinity(int(task.name), server)
        except OSError:
            continue  # exited meanwhile
    os.sched_setaffinity(0, client)
    return f"data plane on CPUs {sorted(server)}, load generators on CPU {sorted(client)}"


def median_figures(runs: list[dict]) -> dict:
    return {key: (statistics.median(r[key] for r in runs) if isinstance(runs[0][key], (int, float)) else runs[0][key])
            for key in runs[0]}


def probe_ceiling(requests: int = 4000, concurrency: int = 32) -> dict:
    """Requests/s and CPU per request the probe reaches against a server that answers at once."""
    port = free_port()
    os.sched_setaffinity(0, set(ALL_CPUS))  # the server started next may use every CPU but the client's
    with tempfile.TemporaryDirectory() as tmp:
        supervisor = Supervisor(Path(tmp))
        supervisor.start("instant", [sys.executable, "-m", "dynamo_harness.bench.instant_server", str(port)])
        try:
            url = f"http://127.0.0.1:{port}"
            supervisor.wait(lambda: answers(url + "/health"), "instant server", 30, ["instant"])
            split_cpus({supervisor.pid("instant")})
            figures, cpu = probe_run(url, "instant", concurrency, requests)
        finally:
            supervisor.remove(["instant"])
            os.sched_setaffinity(0, set(ALL_CPUS))
    return {"concurrency": concurrency, "requests": figures["requests"], "requests_per_s": figures["requests_per_s"],
            "output_tokens_per_s": figures["output_tokens_per_s"], "cpu_ms_per_request": round(cpu / figures["requests"] * 1000, 3)}


def inference_section(runs: int, requests_per_worker: int) -> dict:
    if reason := aiperf.unavailable():
        raise SystemExit(reason)
    plane = EmbeddedDataPlane(state_dir=ROOT / ".cache" / "bench-dataplane")
    levels = []
    try:
        log("starting the embedded data plane")
        plane.up()
        placement = split_cpus({plane.processes.pid(name) for name in ("etcd", "nats", "frontend", "worker")})
        hf_home = aiperf.hf_cache(plane.model_dir, ROOT / ".cache" / "bench-hf")
        for concurrency in CONCURRENCIES:
            requests = concurrency * requests_per_worker
            probe_runs, aiperf_runs, probe_cpu, aiperf_cpu, aiperf_wall = [], [], [], [], []
            probe_fidelity, aiperf_fidelity = [], []
            probe_run(plane.frontend_url, MODEL, concurrency, concurrency * 2)  # warm-up, discarded
            for i in range(runs):  # interleaved, so drift hits both tools alike
                log(f"c={concurrency} run {i + 1}/{runs}: probe, then aiperf ({requests} requests each)")
                before = server_counters(plane.frontend_url)
                figures, cpu = probe_run(plane.frontend_url, MODEL, concurrency, requests)
                probe_fidelity.append(fidelity(figures, server_means(before, server_counters(plane.frontend_url))))
                probe_runs.append(figures)
                probe_cpu.append(cpu / figures["requests"] * 1000)
                before = server_counters(plane.frontend_url)
                result = aiperf.run(plane.frontend_url, MODEL, concurrency=concurrency, requests=requests,
                                    max_tokens=MAX_TOKENS, hf_home=hf_home, out=OUT / "aiperf" / f"c{concurrency}-run{i + 1}")
                aiperf_fidelity.append(fidelity(result.figures, server_means(before, server_counters(plane.frontend_url))))
                aiperf_runs.append(result.figures)
                aiperf_cpu.append(result.cpu_seconds / requests * 1000)
                aiperf_wall.append(result.wall_seconds)
            probe, other = median_figures(probe_runs), median_figures(aiperf_runs)
            ratios = {key: round(probe[key] / other[key], 4) for key in COMPARED if other.get(key)}
            levels.append({
                "concurrency": concurrency, "requests": requests, "probe": probe, "aiperf": other, "ratio_probe_to_aiperf": ratios,
                "probe_runs": probe_runs, "aiperf_runs": aiperf_runs,
                "probe_cpu_ms_per_request": spread(probe_cpu), "aiperf_cpu_ms_per_request": spread(aiperf_cpu),
                "aiperf_wall_s": spread(aiperf_wall),
                "fidelity_client_to_server_mean": {"probe": median_figures(probe_fidelity), "aiperf": median_figures(aiperf_fidelity)},
                "outside_5_percent": sorted(k for k, r in ratios.items() if abs(r - 1) > AGREEMENT),
            })
    finally:
        plane.down()
        os.sched_setaffinity(0, set(ALL_CPUS))
    log("probe ceiling against an instant server")
    ceiling = probe_ceiling()
    measured = next(level for level in levels if level["concurrency"] == 32)["probe"]["requests_per_s"]
    ceiling["headroom_vs_mocker_c32"] = round(ceiling["requests_per_s"] / measured, 2) if measured else None
    return {"cpu_placement": placement, "levels": levels, "probe_ceiling": ceiling}


# -- report --------------------------------------------------------------------------------

def fmt(s: dict | None) -> str:
    return "not measured" if not s else f"{s['min']} / {s['median']} / {s['max']}"


def markdown(results: dict) -> str:
    lines = ["# make bench", "", f"{results['machine']}", "", "min / median / max over the runs; seconds unless named.", ""]
    if tests := results.get("tests"):
        lines += ["## Tests (the last `make test`'s JUnit files)", ""]
        if "missing" in tests:
            lines += [tests["missing"], ""]
        else:
            lines += [f"Seconds per layer: the sum of its tests' times (a parallel run's sum exceeds its wall time). "
                      f"Budget: {tests['budget_s']} s for `make test`; share = seconds / budget.", "",
                      "| layer | tests | skipped | failed | seconds | share of budget |", "| --- | --- | --- | --- | --- | --- |"]
            for layer, entry in tests["layers"].items():
                lines.append(f"| {layer} | {entry['tests']} | {entry['skipped']} | {entry['failed']} | "
                             f"{entry['seconds']:.1f} | {entry['budget_share']:.3f} |")
            lines += [f"| total: wall time of the longer stream of pytest runs (lint not included) | | | | {tests['total_s']:.1f} | "
                      f"{tests['budget_share']:.3f} |", "",
                      "Files: " + "; ".join(f"{name} ({run['wall_s']:.1f} s, written {run['written']})"
                                            for name, run in tests["runs"].items())
                      + "".join(f"; {name} absent" for name in tests["absent"]), ""]
    if chart := results.get("chart"):
        lines += ["## Chart", "", "| figure | min / median / max |", "| --- | --- |",
                  f"| render all {chart['render_all_overlays_s']['value_sets']} value sets (helm template) | {fmt(chart['render_all_overlays_s'])} |",
                  f"| template test suite (-n auto) | {fmt(chart['template_suite_s'])} |", ""]
    if cluster := results.get("cluster"):
        lines += ["## Local cluster", "", "| figure | min / median / max |", "| --- | --- |",
                  f"| cold start: nothing to API server, nodes and service accounts ready | {fmt(cluster['cold_start_s'])} |",
                  f"| warm start: a running cluster found healthy and reused | {fmt(cluster['warm_start_s'])} |",
                  f"| helm install --wait (kind overlay) to all objects ready | {fmt(cluster['install_to_ready_s'])} |",
                  f"| first build of kube-apiserver/controller-manager/scheduler (warm Go cache; BENCH_BUILD=1) | {fmt(cluster['first_build_s'])} |", ""]
    if node := results.get("node"):
        lines += ["## Real node", "", f"Mode: {node['mode']}.", ""]
        if "node_ready_s" in node:
            lines += ["| figure | min / median / max |", "| --- | --- |",
                      f"| kubelet, kube-proxy, CoreDNS and containerd start to node Ready | {fmt(node['node_ready_s'])} |",
                      f"| pod (locally built image, no pull) create to Ready | {fmt(node['pod_start_s'])} |", ""]
    if kind := results.get("kind"):
        lines += ["## kind (multi-node)", ""]
        if "missing" in kind:
            lines += [kind["missing"], ""]
        else:
            lines += [f"{kind['nodes']} real nodes (the simulated pools not counted); start: {kind['start']}, "
                      f"{kind['start_s']} s.", "",
                      "| state | node containers' memory (MiB, `docker stats`: page cache included) | their CPU (% of one core) | host |",
                      "| --- | --- | --- | --- |"]
            for state, words in (("idle", "idle"), ("serving", "aks-spot HA release + 2 frontends, 2 mockers")):
                if usage := kind.get(state):
                    lines.append(f"| {words} | {usage['memory_mib']} | {usage['cpu_percent']} | {usage['host']} |")
            lines += ["", *kind_budget_rows(kind), ""]
    if up := results.get("up"):
        lines += ["## make up", "", "| figure | seconds |", "| --- | --- |",
                  f"| warm: from make down, tools and images built (budget 90 s) | {fmt(up['warm_s'])} |",
                  f"| again: a second make up on the running cluster (budget 60 s) | {fmt(up.get('again_s'))} |",
                  f"| cold: a fresh clone, nothing built (BENCH_COLD=1; budget 15 min) | {fmt(up.get('cold_s'))} |", ""]
    if section := results.get("inference"):
        lines += ["## Probe vs aiperf (embedded mocker, same prompt, 32 output tokens, same concurrency and count)", "",
                  f"CPU placement: {section['cpu_placement']}. Medians of the runs; ratio = probe / aiperf (1.0 = identical).", "",
                  "| c | figure | probe | aiperf | ratio |", "| --- | --- | --- | --- | --- |"]
        for level in section["levels"]:
            for key in COMPARED:
                lines.append(f"| {level['concurrency']} | {key} | {level['probe'][key]} | {level['aiperf'][key]} | "
                             f"{level['ratio_probe_to_aiperf'].get(key)} |")
        lines += ["", "| c | probe CPU ms/request | aiperf CPU ms/request (incl. start-up) | aiperf wall s | outside 5% |",
                  "| --- | --- | --- | --- | --- |"]
        for level in section["levels"]:
            lines.append(f"| {level['concurrency']} | {fmt(level['probe_cpu_ms_per_request'])} | "
                         f"{fmt(level['aiperf_cpu_ms_per_request'])} | {fmt(level['aiperf_wall_s'])} | "
                         f"{', '.join(level['outside_5_percent']) or 'none'} |")
        lines += ["", "Measurement fidelity: each client's mean / the frontend's own mean (its Prometheus histograms) "
                      "over the same requests; 1.0 = the client adds nothing.", "",
                  "| c | probe TTFT | probe latency | probe ITL | aiperf TTFT | aiperf latency | aiperf ITL |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for level in section["levels"]:
            f = level["fidelity_client_to_server_mean"]
            lines.append(f"| {level['concurrency']} | " + " | ".join(
                str(f[tool].get(key)) for tool in ("probe", "aiperf") for key in SERVER_METRICS) + " |")
        c = section["probe_ceiling"]
        lines += ["", f"Probe ceiling (instant server, c={c['concurrency']}, {c['requests']} requests): "
                      f"{c['requests_per_s']} requests/s, {c['output_tokens_per_s']} tokens/s, "
                      f"{c['cpu_ms_per_request']} CPU ms/request; {c['headroom_vs_mocker_c32']}x the rate measured on the mocker at c=32.", ""]
    return "\n".join(lines)


SECTIONS = ("tests", "chart", "cluster", "node", "kind", "up", "inference")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynamo_harness.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="sections to run (default all)")
    parser.add_argument("--requests-per-worker", type=int, default=16, help="load requests per concurrent client (default 16)")
    args = parser.parse_args(argv)
    sections = args.only or list(SECTIONS)
    results: dict = {"machine": f"{platform.node()}: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}",
                     "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": args.runs}
    measures = {"tests": tests_section,
                "chart": lambda: chart_section(args.runs),
                "cluster": lambda: cluster_section(args.runs, build=os.environ.get("BENCH_BUILD") == "1"),
                "node": lambda: node_section(args.runs),
                "kind": kind_section,
                "up": make_up_section,
                "inference": lambda: inference_section(args.runs, args.requests_per_worker)}
    OUT.mkdir(exist_ok=True)
    for name in sections:
        results[name] = measures[name]()
        # Written after each section, so a later failure keeps what was measured.
        (OUT / "results.json").write_text(json.dumps(results, indent=2))
        (OUT / "results.md").write_text(markdown(results))
    print(markdown(results))
    print(f"written: {OUT / 'results.json'}, {OUT / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
