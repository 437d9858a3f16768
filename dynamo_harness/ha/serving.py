"""Inference on the multi-node kind cluster: the Dynamo frontend and mocker workers as pods on the
real workers, wired as the operator wires a DGD's pods (dataplane/in_cluster.py) in an HA overlay's
release namespace; a bounded inference load whose every request is counted; and fault f, the loss
of the node that runs a mocker worker.

    plane = serving_plane(ha)      # 2 frontends, 2 workers, one per node, reached over NodePorts
    plane.up()
    load = InferenceLoad(plane.frontend_url, plane.model); load.start(); ...; load.stop(); load.figures()
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from ..clusters.dockerd import Dockerd
from ..conformance.inference import Sample, one_request
from ..dataplane import Fault
from ..dataplane.in_cluster import ClusterDataPlane, Placement
from ..kube import condition, simulated, wait_for
from ..kube_api import ENDPOINT_SLICE, NODE
from .background import BackgroundLoad
from .shape import HaRelease

WORKERS = 2
FRONTENDS = 2
REQUEST_TIMEOUT_S = 10.0
CONCURRENCY = 2
MAX_TOKENS = 8
# Fault f's bounds: the node controller marks a silent node's pods not Ready after its grace period
# (40-50 s), which takes the lost worker out of its Service's EndpointSlice, so Kubernetes
# discovery drops it; then a streak of successes from the other worker and the window.
DISCOVERY_DROP_TIMEOUT_S = 120
WORKER_NODE_LOSS_MAX_S = 180
WORKER_NODE_LOSS_WINDOW = (30.0, "the frontend serves from the remaining worker after discovery dropped the "
                                 "lost one: no request may fail for this long (upstream's readiness probe, "
                                 "10 s x 3, is the slowest way a pod could still leave or join)")


def kind_placement(ha: HaRelease) -> Placement:
    """The kind cluster's real workers: their pools' own taints tolerated (the AKS spot taint, a GPU
    pool's), not the simulated nodes' (no container runs there) nor the control plane's."""
    tolerations: dict[tuple, dict[str, str]] = {}
    for node in ha.api.items(NODE):
        if simulated(node) or "node-role.kubernetes.io/control-plane" in node["metadata"].get("labels", {}):
            continue
        for taint in node["spec"].get("taints", []):
            if taint["key"].startswith("node.kubernetes.io/"):  # the node controller's, not the pool's
                continue
            key = (taint["key"], taint.get("value", ""), taint["effect"])
            tolerations[key] = {"key": key[0], "operator": "Equal", "value": key[1], "effect": key[2]}
    return Placement("the kind workers", {}, list(tolerations.values()), spread=True)


def serving_plane(ha: HaRelease) -> ClusterDataPlane:
    """The frontend and mocker workers in the release's namespace, following its OperatorConfiguration."""
    return ClusterDataPlane(ha.api, ha.namespace, ha.release, workers=WORKERS, frontends=FRONTENDS,
                            placement=kind_placement(ha), reach=ha.reach)


class InferenceLoad(BackgroundLoad):
    """Streaming chat completions through the frontend from CONCURRENCY clients in a thread of its
    own, each with REQUEST_TIMEOUT_S, until stopped or `max_requests`. Every request is a figure."""

    clock = staticmethod(time.perf_counter)  # the samples' clock
    stop_timeout_s = REQUEST_TIMEOUT_S + 30

    def __init__(self, url: str, model: str, max_requests: int = 20000):
        super().__init__()
        self.url, self.model, self.max_requests = url, model, max_requests
        self.samples: list[Sample] = []
        self.sent = 0

    async def _run(self) -> None:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
            async def client() -> None:
                while not self.stopping and self.sent < self.max_requests:
                    self.sent += 1
                    sample = await one_request(session, self.url, self.model, "chat", MAX_TOKENS)
                    self.samples.append(sample)
                    if not sample.ok:
                        await asyncio.sleep(0.2)  # a dead route costs a few requests a second, not a spin

            await asyncio.gather(*(client() for _ in range(CONCURRENCY)))

    def figures(self, since: float | None = None) -> dict:
        """sent/ok/failed, the error kinds, the longest gap between completed requests, and the first
        and last failure in seconds after `since` (perf_counter; the load's start by default)."""
        since = self.started_at if since is None else since
        failed = [s for s in self.samples if not s.ok]
        done = sorted(s.ended for s in self.samples if s.ok)
        gaps = [b - a for a, b in zip(done, done[1:])]
        return {"sent": self.sent, "ok": len(self.samples) - len(failed), "failed": len(failed),
                "errors": dict(Counter(s.error.split(":", 1)[0] for s in failed)),
                "longest_gap_s": round(max(gaps, default=0.0), 2),
                "first_failure_s": round(min(s.ended for s in failed) - since, 2) if failed else None,
                "last_failure_s": round(max(s.ended for s in failed) - since, 2) if failed else None}


class WorkerNodeLoss:
    """f. The node that runs one mocker worker is killed (`docker kill`). `fault.inject` returns once
    Kubernetes discovery has dropped the worker: its endpoint in the worker Service's EndpointSlice
    is not ready (the node controller marks a silent node's pods not Ready after its grace
    period) or gone. Nothing replaces it while the node is away (the pod waits out its not-ready
    toleration), so recovery is the frontend serving from the other worker. `repair()` starts the
    node again."""

    def __init__(self, plane: ClusterDataPlane, engine: Dockerd):
        self.plane, self.engine = plane, engine
        frontends = {p["spec"].get("nodeName") for p in plane.pods("frontend")}
        workers = [p for p in plane.pods("worker") if p["spec"].get("nodeName")]
        # A worker's node without a frontend, where there is one: the fault is the worker's, not the frontend's.
        victim = next((p for p in workers if p["spec"]["nodeName"] not in frontends), workers[0])
        self.node, self.pod = victim["spec"]["nodeName"], victim["metadata"]["name"]
        self.killed_at = self.dropped_at = 0.0
        self.fault = Fault("worker", "node-loss", self._inject, *WORKER_NODE_LOSS_WINDOW, replaced=False)

    def _inject(self) -> None:
        self.killed_at = time.perf_counter()
        self.engine.docker("kill", self.node)
        wait_for(self._dropped, f"{self.pod}'s endpoint dropped from discovery", DISCOVERY_DROP_TIMEOUT_S, interval=0.5)
        self.dropped_at = time.perf_counter()

    def _dropped(self) -> bool:
        slices = self.plane.api.items(ENDPOINT_SLICE, self.plane.namespace,
                                      f"kubernetes.io/service-name={self.plane.object_name('worker')}")
        ours = [e for s in slices for e in s.get("endpoints") or []
                if (e.get("targetRef") or {}).get("name") == self.pod]
        return all(not (e.get("conditions") or {}).get("ready") for e in ours)

    def repair(self, timeout: float = 240) -> None:
        self.engine.docker("start", self.node)

        def back() -> bool:
            node_ready = condition(self.plane.api.get(NODE, self.node), "Ready").get("status") == "True"
            pods = self.plane.pods("worker")
            return node_ready and len(pods) == WORKERS and all(condition(p, "Ready").get("status") == "True" for p in pods)

        wait_for(back, f"{self.node} Ready and every worker Ready again", timeout, interval=2)
