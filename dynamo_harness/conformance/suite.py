"""The conformance suite: what to probe (Targets), how hard (LoadPlan), and the probe registry.

A probe is one function decorated with `@probe(<Targets fields it needs>)`; `run` calls, in
the order they are written here, every probe whose targets are all given. Adding a probe is
one decorated function (plus its test). A new kind of target is one Targets field: the
dynamo-conformance CLI offers every field that carries a `help` as an option.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..dataplane import DataPlane, Fault, Observed
from ..deploy.config import DeploymentConfig
from ..kube_api import KubeApi
from ..helm_release import DEFAULT_NAME
from ..results import ProbeResult
from . import deployment, faults, health, inference, node_checks


def _option(help: str, **extra) -> dict:
    return field(default=None, metadata={"help": help, **extra})


@dataclass
class Targets:
    frontend: str | None = _option("frontend base URL, e.g. http://127.0.0.1:8000")
    model: str | None = _option("served model name to probe")
    etcd: str | None = _option("etcd client URL")
    nats: str | None = _option("NATS client URL (nats://...)")
    nats_monitor: str | None = _option("NATS monitoring URL (http://...:8222)")
    operator_health: str | None = _option("operator health URL (:8081)")
    operator_metrics: str | None = _option("operator metrics URL, https://...:8443 (the manager serves HTTPS only)")
    operator_metrics_token_file: Path | None = _option(
        "file with a bearer token allowed `get` on /metrics, e.g. `kubectl create token` of a ServiceAccount bound "
        "to the chart's metrics-reader ClusterRole", type=Path)
    kubeconfig: Path | None = _option("kubeconfig of the cluster to check (CRDs, workloads, DGDs, nodes): the probes "
                                      "reach its API with the `kubernetes` client, no kubectl needed", type=Path)
    in_cluster: bool | None = _option("reach the cluster as this pod's ServiceAccount (in-cluster config) instead of "
                                      "--kubeconfig", action="store_true")
    platform_namespace: str | None = _option("namespace of the platform release: every workload there must have rolled out")
    platform_release: str | None = _option(f"name of the platform release whose worker settings the DGDs' worker pods "
                                           f"must carry (default {DEFAULT_NAME})")
    dgds: list[tuple[str, str]] = field(default_factory=list)  # (namespace, name) that must be Ready
    node_runner: node_checks.Host | None = None  # testinfra Host the GPU/RDMA checks run on: this host or a cluster node
    node_name: str | None = None  # the cluster node of node_runner, for its allocatable resources
    expect_rdma: bool = False
    expect_efa: bool = False
    # Faults a data plane the harness runs can inject, and its view of its own components.
    faults: list[Fault] = field(default_factory=list)
    observed: Observed | None = None
    deployment: DeploymentConfig | None = None  # the model the deploy stage puts on the cluster
    deploy_timeout: float = 1800
    keep_deployment: bool = False
    kube: KubeApi | None = None  # the cluster's API: from kubeconfig, or in-cluster; every cluster probe needs it

    def __post_init__(self) -> None:
        if self.kube is None and (self.kubeconfig or self.in_cluster):
            self.kube = KubeApi(None if self.in_cluster else self.kubeconfig)

    @classmethod
    def options(cls) -> list[tuple[str, dict]]:
        """(field name, argparse keywords) of every field the CLI offers."""
        return [(f.name, dict(f.metadata)) for f in fields(cls) if "help" in f.metadata]


@dataclass
class LoadPlan:
    concurrencies: tuple[int, ...] = (1, 8, 32)
    requests_per_worker: int = 8
    max_seconds: float = 60  # each load level's deadline; a fault's: this to recover, plus its observation window
    max_tokens: int = 32
    fault_repetitions: int = 3  # each fault is injected this many times under one load


def data_plane_targets(plane: DataPlane, *, restarts: bool) -> dict:
    """The Targets fields of a data plane the harness runs (frontend, model, etcd, NATS), and with
    `restarts` the faults it offers (`plane.faults()`) and the plane itself as their observer
    (dataplane.Observed: `plane.instances()`, `plane.exit_reason(component)`)."""
    found = {"frontend": plane.frontend_url, "model": plane.model, "etcd": plane.etcd_url,
             "nats": plane.nats_url, "nats_monitor": plane.nats_monitor_url}
    if restarts:
        found.update(faults=plane.faults(), observed=plane)
    return found


ProbeFunction = Callable[[Targets, LoadPlan], Iterable[ProbeResult]]


@dataclass(frozen=True)
class Probe:
    name: str
    needs: tuple[str, ...]  # Targets fields that must be set (truthy) for the probe to run
    run: ProbeFunction


PROBES: list[Probe] = []


def probe(*needs: str) -> Callable[[ProbeFunction], ProbeFunction]:
    unknown = set(needs) - {f.name for f in fields(Targets)}
    if unknown:
        raise ValueError(f"probe needs unknown targets {sorted(unknown)}")

    def register(function: ProbeFunction) -> ProbeFunction:
        PROBES.append(Probe(function.__name__, needs, function))
        return function

    return register


def run(targets: Targets, plan: LoadPlan, on_result: Callable[[ProbeResult], None] = lambda r: None) -> list[ProbeResult]:
    """Every registered probe the targets allow, in registration order."""
    results: list[ProbeResult] = []
    for registered in PROBES:
        if all(getattr(targets, need) for need in registered.needs):
            for result in registered.run(targets, plan):
                results.append(result)
                on_result(result)
    return results


# -- the probes, in run order: health, the cluster, inference and load, faults, nodes -------------

@probe("etcd")
def etcd(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return health.etcd(t.etcd)


@probe("nats", "nats_monitor")
def nats(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return health.nats(t.nats, t.nats_monitor)


@probe("operator_health", "operator_metrics")
def operator(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return health.operator(t.operator_health, t.operator_metrics, t.operator_metrics_token_file)


@probe("kube", "platform_namespace")
def operator_simulated(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return health.operator_simulated(t.kube, t.platform_namespace)


@probe("kube", "platform_namespace")
def platform_workloads(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return health.workloads_rolled_out(t.kube, t.platform_namespace)


@probe("kube")
def crds(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return [health.crds_established(t.kube)]


@probe("kube", "dgds")
def dgds(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return [health.dgd_ready(t.kube, namespace, name) for namespace, name in t.dgds]


@probe("kube", "platform_namespace", "dgds")
def worker_settings(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return [deployment.check_worker_settings(t.kube, t.platform_namespace, t.platform_release or DEFAULT_NAME,
                                             namespace, name) for namespace, name in t.dgds]


@probe("kube", "deployment")
def deploy_stage(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    platform = (t.platform_namespace, t.platform_release or DEFAULT_NAME) if t.platform_namespace else None
    return deployment.run(t.kube, t.deployment, timeout=t.deploy_timeout, keep=t.keep_deployment,
                          platform=platform)


@probe("frontend", "model")
def frontend(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return health.frontend(t.frontend) + inference.functional(t.frontend, t.model)


@probe("frontend", "model")
def load(t: Targets, plan: LoadPlan) -> Iterable[ProbeResult]:
    return (inference.load_probe(t.frontend, t.model, concurrency=c, requests=c * plan.requests_per_worker,
                                 max_seconds=plan.max_seconds, max_tokens=plan.max_tokens)[0]
            for c in plan.concurrencies)


@probe("frontend", "model", "faults", "observed")
def fault_recovery(t: Targets, plan: LoadPlan) -> Iterable[ProbeResult]:
    return (faults.watch(fault, t.frontend, t.model, t.observed, repetitions=plan.fault_repetitions,
                         max_seconds=plan.max_seconds + fault.window_s, max_tokens=plan.max_tokens)[0]
            for fault in t.faults)


@probe("node_runner")
def node_devices(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return node_checks.all_checks(t.node_runner, expect_rdma=t.expect_rdma, expect_efa=t.expect_efa)


@probe("kube", "node_name")
def node_resources(t: Targets, plan: LoadPlan) -> list[ProbeResult]:
    return [node_checks.allocatable(t.kube, t.node_name)]
