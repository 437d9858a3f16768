"""Health probes of the platform's parts: etcd, NATS/JetStream, operator, frontend, CRDs, DGDs."""

from __future__ import annotations

import asyncio
import base64
import re
import urllib.parse
import uuid
import warnings
from pathlib import Path

import requests
from urllib3.exceptions import InsecureRequestWarning

from ..deploy import on_cluster
from ..kube import condition, pod_placement, rollout_state, simulated
from ..kube_api import CRD, DAEMON_SET, DEPLOYMENT, NODE, POD, STATEFUL_SET, KubeApi
from ..results import Outcome, ProbeResult, failed, passed, skipped, timed


# Seconds a probe waits for an answer.
GET_TIMEOUT = 5
POST_TIMEOUT = 30


def etcd(client_url: str) -> list[ProbeResult]:
    """/health, then the member list through etcd's JSON gateway."""

    def health() -> Outcome:
        resp = requests.get(f"{client_url}/health", timeout=GET_TIMEOUT)
        if resp.status_code == 200 and resp.json().get("health") == "true":
            return passed()
        return failed(f"HTTP {resp.status_code}: {resp.text[:200]}")

    def members() -> Outcome:
        resp = requests.post(f"{client_url}/v3/cluster/member/list", json={}, timeout=POST_TIMEOUT)
        names = [m.get("name", "?") for m in resp.json().get("members", [])] if resp.status_code == 200 else []
        if names:
            return passed(f"{len(names)} member(s): {', '.join(names)}", members=len(names))
        return failed(f"HTTP {resp.status_code}: {resp.text[:200]}")

    def kv_roundtrip() -> Outcome:
        key = f"/dynamo-conformance/{uuid.uuid4().hex}"
        enc = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731 - the gateway speaks base64
        requests.post(f"{client_url}/v3/kv/put", json={"key": enc(key), "value": enc("ok")}, timeout=POST_TIMEOUT)
        got = requests.post(f"{client_url}/v3/kv/range", json={"key": enc(key)}, timeout=POST_TIMEOUT).json().get("kvs", [])
        requests.post(f"{client_url}/v3/kv/deleterange", json={"key": enc(key)}, timeout=POST_TIMEOUT)
        if got and base64.b64decode(got[0]["value"]) == b"ok":
            return passed()
        return failed("value written was not read back")

    return [timed("etcd/health", health), timed("etcd/members", members), timed("etcd/kv-roundtrip", kv_roundtrip)]


def nats(client_url: str, monitor_url: str) -> list[ProbeResult]:
    """/healthz (JetStream-aware), JetStream enabled, and a stream round trip."""

    def healthz() -> Outcome:
        resp = requests.get(f"{monitor_url}/healthz?js-enabled-only=true", timeout=GET_TIMEOUT)
        if resp.status_code == 200:
            return passed()
        return failed(f"HTTP {resp.status_code}: {resp.text[:200]}")

    def jetstream() -> Outcome:
        resp = requests.get(f"{monitor_url}/jsz", timeout=GET_TIMEOUT)
        info = resp.json() if resp.status_code == 200 else {}
        if info.get("config") and not info.get("disabled"):
            return passed(f"store {info['config'].get('store_dir', '?')}", streams=info.get("streams", 0))
        return failed("JetStream is not enabled on this server")

    def roundtrip() -> Outcome:
        return asyncio.run(_jetstream_roundtrip(client_url))

    return [timed("nats/healthz", healthz), timed("nats/jetstream", jetstream), timed("nats/jetstream-roundtrip", roundtrip)]


async def _ignore(_: Exception) -> None:
    """nats-py reports connection errors through callbacks; the probe reports them itself."""


async def _jetstream_roundtrip(client_url: str) -> Outcome:
    import nats as nats_client

    stream = f"CONFORMANCE_{uuid.uuid4().hex[:8].upper()}"
    try:
        # nats-py can keep retrying a refused first connect; bound it.
        conn = await asyncio.wait_for(
            nats_client.connect(client_url, connect_timeout=3, allow_reconnect=False, error_cb=_ignore), timeout=5)
    except (OSError, asyncio.TimeoutError, nats_client.errors.Error) as err:
        return failed(f"cannot connect to {client_url}: {type(err).__name__} {err}".strip())
    try:
        js = conn.jetstream(timeout=5)
        await js.add_stream(name=stream, subjects=[f"{stream}.>"], storage="memory")
        try:
            ack = await js.publish(f"{stream}.ping", b"ping")
            sub = await js.pull_subscribe(f"{stream}.ping", durable=None)
            (msg,) = await sub.fetch(1, timeout=5)
            if msg.data == b"ping" and ack.seq == 1:
                return passed(f"stream {stream}: publish, ack, fetch")
            return failed(f"read back {msg.data!r}")
        finally:
            await js.delete_stream(stream)
    finally:
        await conn.close()


METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", re.M)


def metric_families(text: str, prefix: str) -> set[str]:
    return {name for name in METRIC_LINE.findall(text) if name.startswith(prefix)}


def _endpoint(url: str, expect_body: str | None = None) -> Outcome:
    resp = requests.get(url, timeout=GET_TIMEOUT)
    if resp.status_code == 200 and (expect_body is None or expect_body in resp.text):
        return passed()
    return failed(f"{url}: HTTP {resp.status_code} {resp.text[:200]}")


def _metrics(url: str, prefix: str) -> Outcome:
    resp = requests.get(url, timeout=GET_TIMEOUT)
    families = metric_families(resp.text, prefix) if resp.status_code == 200 else set()
    if families:
        return passed(f"{len(families)} {prefix}* series", families=len(families))
    return failed(f"{url}: no {prefix}* metrics (HTTP {resp.status_code})")


OPERATOR_METRICS_PREFIX = "dynamo_operator_"


def _operator_metrics(metrics_url: str, token_file: Path | None) -> Outcome:
    """What a Prometheus scraper does: HTTPS with a ServiceAccount's bearer token. The manager
    authenticates the token (TokenReview) and authorizes `get` on the non-resource URL /metrics
    (SubjectAccessReview). Its serving certificate is self-signed, made in memory at start, so
    nothing can trust it: verification is skipped, as the ServiceMonitor's insecureSkipVerify."""
    url = f"{metrics_url.rstrip('/')}/metrics"
    if urllib.parse.urlsplit(url).scheme != "https":
        return failed(f"{url}: the operator serves /metrics over HTTPS only (server.metrics.secure); give an https:// URL")
    headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"} if token_file else {}
    with warnings.catch_warnings():  # unverified on purpose (above): not worth a warning per probe
        warnings.simplefilter("ignore", InsecureRequestWarning)
        resp = requests.get(url, headers=headers, verify=False, timeout=GET_TIMEOUT)
    if resp.status_code == 401:
        return failed(f"{url}: HTTP 401, the manager did not authenticate "
                      + ("the token" if token_file else "the request: no bearer token given (--operator-metrics-token-file)"))
    if resp.status_code == 403:
        return failed(f"{url}: HTTP 403, the token's ServiceAccount may not `get` the non-resource URL /metrics")
    families = metric_families(resp.text, OPERATOR_METRICS_PREFIX) if resp.status_code == 200 else set()
    if families:
        return passed(f"{len(families)} {OPERATOR_METRICS_PREFIX}* series", families=len(families))
    return failed(f"{url}: no {OPERATOR_METRICS_PREFIX}* metrics (HTTP {resp.status_code})")


def operator(health_url: str, metrics_url: str, token_file: Path | None = None) -> list[ProbeResult]:
    return [
        timed("operator/healthz", lambda: _endpoint(f"{health_url}/healthz")),
        timed("operator/readyz", lambda: _endpoint(f"{health_url}/readyz")),
        timed("operator/metrics", lambda: _operator_metrics(metrics_url, token_file)),
    ]


OPERATOR_SELECTOR = "app.kubernetes.io/name=dynamo-operator,app.kubernetes.io/component=manager"


def operator_is_simulated(api: KubeApi, namespace: str | None) -> bool:
    """True when every operator pod in `namespace` (None: in any) runs on a simulated (kwok) node:
    no operator process reconciles anything (the local and kind clusters, where no operator image
    exists)."""
    # Pods not yet scheduled or already going count neither way.
    pods = [p for p in api.items(POD, namespace, OPERATOR_SELECTOR)
            if p["spec"].get("nodeName") and not p["metadata"].get("deletionTimestamp")]
    nodes = {n["metadata"]["name"]: n for n in api.items(NODE)}
    placed = [nodes.get(p["spec"]["nodeName"]) for p in pods]
    return bool(placed) and all(node is not None and simulated(node) for node in placed)


def operator_simulated(api: KubeApi, namespace: str) -> list[ProbeResult]:
    """Where kwok simulates the operator's pod (the local cluster), no container serves /healthz or
    /metrics: one skip that says so. Elsewhere nothing: the endpoint probes speak for it."""
    if operator_is_simulated(api, namespace):
        return [timed("operator/metrics", lambda: skipped(
            "the operator pod is simulated by kwok: no container serves /metrics to scrape"))]
    return []


def frontend(url: str) -> list[ProbeResult]:
    return [
        timed("frontend/health", lambda: _endpoint(f"{url}/health", '"healthy"')),
        timed("frontend/live", lambda: _endpoint(f"{url}/live")),
        timed("frontend/metrics", lambda: _metrics(f"{url}/metrics", "dynamo_frontend_")),
    ]


def crds_established(api: KubeApi) -> ProbeResult:
    def check() -> Outcome:
        crds = api.items(CRD, selector="app.kubernetes.io/part-of=dynamo-platform")
        pending = [c["metadata"]["name"] for c in crds if condition(c, "Established").get("status") != "True"]
        if crds and not pending:
            return passed(f"{len(crds)} CRDs", crds=len(crds))
        return failed(f"not established: {pending}" if crds else "no dynamo-platform CRDs installed")

    return timed("crds/established", check)


def workloads_rolled_out(api: KubeApi, namespace: str) -> list[ProbeResult]:
    """One result per Deployment, StatefulSet and DaemonSet of the namespace: rolled out or not,
    and where its pods run (a real node, or simulated by kwok, which the report must say)."""
    nodes = api.items(NODE)

    def check(workload: dict) -> Outcome:
        ok, detail = rollout_state(workload)
        selector = ",".join(f"{k}={v}" for k, v in workload["spec"]["selector"]["matchLabels"].items())
        where = pod_placement(api.items(POD, namespace, selector), nodes)
        return (passed if ok else failed)(f"{detail}; {where}")

    workloads = [w for kind in (DEPLOYMENT, STATEFUL_SET, DAEMON_SET) for w in api.items(kind, namespace)]
    if not workloads:
        return [timed(f"platform/{namespace}", lambda: failed(f"no Deployment, StatefulSet or DaemonSet in {namespace}"))]
    return [timed(f"platform/{w['kind']} {w['metadata']['name']}", lambda w=w: check(w)) for w in workloads]


def dgd_ready(api: KubeApi, namespace: str, name: str) -> ProbeResult:
    def check() -> Outcome:
        ready, detail = on_cluster.ready_state(api, namespace, name)
        return passed("Ready") if ready else failed(f"not Ready: {detail}")

    return timed(f"dgd/{name}", check)
