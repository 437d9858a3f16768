"""dynamo-conformance: probe a Dynamo platform and its models in one run.

Point it at endpoints (a port-forwarded frontend, etcd and NATS of a cluster), at a cluster
(--kubeconfig: CRDs, DGD readiness, RDMA node checks), or at the embedded data plane
(--embedded, which it starts if needed). It prints each probe as it finishes, writes JUnit,
Markdown and HTML reports, and exits 1 if any probe failed.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..deploy.config import ConfigError, DeploymentConfig, load_file, parse
from ..kube import Kubectl
from ..paths import ROOT
from . import deployment, faults, health, inference, node, report
from .result import ProbeResult


@dataclass
class Targets:
    frontend: str | None = None
    model: str | None = None
    etcd: str | None = None
    nats: str | None = None
    nats_monitor: str | None = None
    operator_health: str | None = None
    operator_metrics: str | None = None
    kubeconfig: Path | None = None
    dgds: list[tuple[str, str]] = field(default_factory=list)  # (namespace, name)
    node_runner: node.Runner | None = None
    expect_rdma: bool = False
    expect_efa: bool = False
    # Component name -> a call that crashes and restarts it (the embedded data plane offers these).
    restarts: dict[str, Callable[[], None]] = field(default_factory=dict)
    deployment: DeploymentConfig | None = None  # the model the deploy stage puts on the cluster
    deploy_timeout: float = 1800
    keep_deployment: bool = False


@dataclass
class LoadPlan:
    concurrencies: tuple[int, ...] = (1, 8, 32)
    requests_per_worker: int = 8
    max_seconds: float = 60
    max_tokens: int = 32


def run(targets: Targets, plan: LoadPlan, on_result: Callable[[ProbeResult], None] = lambda r: None) -> list[ProbeResult]:
    """Every probe the targets allow, health first, then inference and load, then nodes."""
    results: list[ProbeResult] = []

    def add(batch: list[ProbeResult]) -> None:
        for result in batch:
            results.append(result)
            on_result(result)

    if targets.etcd:
        add(health.etcd(targets.etcd))
    if targets.nats and targets.nats_monitor:
        add(health.nats(targets.nats, targets.nats_monitor))
    if targets.operator_health and targets.operator_metrics:
        add(health.operator(targets.operator_health, targets.operator_metrics))
    if targets.kubeconfig:
        kubectl = Kubectl(targets.kubeconfig)
        add([health.crds_established(kubectl)])
        add([health.dgd_ready(kubectl, ns, name) for ns, name in targets.dgds])
        if targets.deployment:
            add(deployment.run(kubectl, targets.deployment, timeout=targets.deploy_timeout, keep=targets.keep_deployment))
    if targets.frontend and targets.model:
        add(health.frontend(targets.frontend))
        add(inference.functional(targets.frontend, targets.model))
        for concurrency in plan.concurrencies:
            result, _ = inference.load_probe(targets.frontend, targets.model, concurrency=concurrency,
                                             requests=concurrency * plan.requests_per_worker,
                                             max_seconds=plan.max_seconds, max_tokens=plan.max_tokens)
            add([result])
        for component, restart in targets.restarts.items():
            add([faults.restart_while_serving(component, targets.frontend, targets.model, restart,
                                              max_seconds=plan.max_seconds, max_tokens=plan.max_tokens)[0]])
    if targets.node_runner:
        add(node.all_checks(targets.node_runner, expect_rdma=targets.expect_rdma, expect_efa=targets.expect_efa))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dynamo-conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedded", action="store_true", help="start (or reuse) the embedded data plane and probe it")
    parser.add_argument("--frontend", help="frontend base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--model", help="served model name to probe")
    parser.add_argument("--etcd", help="etcd client URL")
    parser.add_argument("--nats", help="NATS client URL (nats://...)")
    parser.add_argument("--nats-monitor", help="NATS monitoring URL (http://...:8222)")
    parser.add_argument("--operator-health", help="operator health URL (:8081)")
    parser.add_argument("--operator-metrics", help="operator metrics URL (:8443)")
    parser.add_argument("--kubeconfig", type=Path, help="cluster to check CRDs and DGDs on")
    parser.add_argument("--dgd", action="append", default=[], metavar="NAMESPACE/NAME", help="DGD that must be Ready")
    parser.add_argument("--node", help="run GPU/RDMA checks on 'local' (this host) or a cluster node name (needs --kubeconfig)")
    parser.add_argument("--expect-rdma", action="store_true", help="RDMA checks fail instead of skipping when absent")
    parser.add_argument("--expect-efa", action="store_true", help="the EFA check fails instead of skipping when absent")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated load levels (default 1,8,32)")
    parser.add_argument("--requests-per-worker", type=int, default=8, help="requests per concurrent worker (bound)")
    parser.add_argument("--max-seconds", type=float, default=60, help="deadline of each load level (bound)")
    parser.add_argument("--max-tokens", type=int, default=32, help="output tokens per request")
    parser.add_argument("--faults", action="store_true", help="with --embedded: restart etcd, then NATS, under load and report the recovery")
    parser.add_argument("--deploy", metavar="RUNTIME/TOPOLOGY|FILE",
                        help="deploy stage (needs --kubeconfig): deploy this template or config file, probe it, undeploy")
    parser.add_argument("--deploy-model", default="Qwen/Qwen3-0.6B", help="model for --deploy RUNTIME/TOPOLOGY")
    parser.add_argument("--deploy-namespace", default="default", help="namespace for --deploy RUNTIME/TOPOLOGY")
    parser.add_argument("--deploy-timeout", type=float, default=1800, help="seconds to wait for the DGD to be Ready")
    parser.add_argument("--keep-deployment", action="store_true", help="leave the deployed model in place")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "reports", help="where the reports go")
    args = parser.parse_args(argv)

    targets = Targets(frontend=args.frontend, model=args.model, etcd=args.etcd, nats=args.nats,
                      nats_monitor=args.nats_monitor, operator_health=args.operator_health,
                      operator_metrics=args.operator_metrics, kubeconfig=args.kubeconfig,
                      dgds=[tuple(d.split("/", 1)) for d in args.dgd],
                      expect_rdma=args.expect_rdma, expect_efa=args.expect_efa)
    if args.embedded:
        from ..dataplane import MODEL, EmbeddedDataPlane

        plane = EmbeddedDataPlane()
        print("starting the embedded data plane..." if not plane.healthy() else "reusing the embedded data plane", flush=True)
        plane.up()
        targets.frontend, targets.model, targets.etcd = plane.frontend_url, MODEL, plane.etcd_url
        targets.nats, targets.nats_monitor = plane.nats_url, plane.nats_monitor_url
        if args.faults:
            targets.restarts = {name: functools.partial(plane.restart, name) for name in ("etcd", "nats")}
    elif args.faults:
        parser.error("--faults needs --embedded: the harness restarts only processes it runs")
    if args.node == "local":
        targets.node_runner = node.local_runner
    elif args.node:
        if not args.kubeconfig:
            parser.error("--node <name> needs --kubeconfig")
        targets.node_runner = node.NodeDebugRunner(Kubectl(args.kubeconfig), args.node)
    if args.deploy:
        if not args.kubeconfig:
            parser.error("--deploy needs --kubeconfig")
        try:
            targets.deployment = _deployment(args)
        except ConfigError as err:
            parser.error(f"--deploy: {err}")
        targets.deploy_timeout, targets.keep_deployment = args.deploy_timeout, args.keep_deployment
    plan = LoadPlan(tuple(int(c) for c in args.concurrency.split(",")), args.requests_per_worker,
                    args.max_seconds, args.max_tokens)
    if not any([targets.frontend, targets.etcd, targets.nats, targets.operator_health, targets.kubeconfig, targets.node_runner]):
        parser.error("nothing to probe: give endpoints, --kubeconfig, --node or --embedded")

    print("dynamo-conformance", flush=True)
    results = run(targets, plan, lambda r: print(report.progress_line(r), flush=True))
    paths = report.write_all(results, args.report_dir)
    print(report.summary(results))
    print("reports: " + ", ".join(str(p) for p in paths.values()))
    return 1 if any(not r.ok for r in results) else 0


def _deployment(args: argparse.Namespace) -> DeploymentConfig:
    if Path(args.deploy).is_file():
        return parse(load_file(Path(args.deploy)))
    runtime, _, topology = args.deploy.partition("/")
    return parse({"runtime": runtime, "topology": topology, "model": args.deploy_model, "namespace": args.deploy_namespace})


if __name__ == "__main__":
    sys.exit(main())
