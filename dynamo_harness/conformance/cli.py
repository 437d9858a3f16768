"""dynamo-conformance: probe a Dynamo platform and its models in one run.

Point it at endpoints (a port-forwarded frontend, etcd and NATS of a cluster), at a cluster
(--kubeconfig or --in-cluster: CRDs, DGD readiness, RDMA node checks, through the Kubernetes
API with the `kubernetes` client; no kubectl binary is needed), or at the embedded data plane
(--embedded, which it starts if needed). It prints each probe as it finishes, writes JUnit,
Markdown and HTML reports, and exits 1 if any probe failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from ..deploy.config import ConfigError, DeploymentConfig, load_file, parse
from ..paths import CHECKOUT, ROOT
from . import node_checks, report
from .suite import LoadPlan, Targets, data_plane_targets, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dynamo-conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedded", action="store_true", help="start (or reuse) the embedded data plane and probe it")
    for name, keywords in Targets.options():
        parser.add_argument(f"--{name.replace('_', '-')}", **keywords)
    parser.add_argument("--dgd", action="append", default=[], metavar="NAMESPACE/NAME", help="DGD that must be Ready")
    parser.add_argument("--node", help="run GPU/RDMA checks on 'local' (this host) or a cluster node name (needs --kubeconfig)")
    parser.add_argument("--expect-rdma", action="store_true", help="RDMA checks fail instead of skipping when absent")
    parser.add_argument("--expect-efa", action="store_true", help="the EFA check fails instead of skipping when absent")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated load levels (default 1,8,32)")
    parser.add_argument("--requests-per-worker", type=int, default=8, help="requests per concurrent worker (bound)")
    parser.add_argument("--max-seconds", type=float, default=60, help="deadline of each load level (bound)")
    parser.add_argument("--max-tokens", type=int, default=32, help="output tokens per request")
    parser.add_argument("--faults", action="store_true", help="with --embedded: restart etcd, then NATS, under load and report the recovery")
    parser.add_argument("--fault-repetitions", type=int, default=3, help="times each fault is injected (default 3)")
    parser.add_argument("--deploy", metavar="RUNTIME/TOPOLOGY|FILE",
                        help="deploy stage (needs --kubeconfig): deploy this template or config file, probe it, undeploy")
    parser.add_argument("--deploy-model", default="Qwen/Qwen3-0.6B", help="model for --deploy RUNTIME/TOPOLOGY")
    parser.add_argument("--deploy-namespace", default="default", help="namespace for --deploy RUNTIME/TOPOLOGY")
    parser.add_argument("--deploy-timeout", type=float, default=1800, help="seconds to wait for the DGD to be Ready")
    parser.add_argument("--keep-deployment", action="store_true", help="leave the deployed model in place")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "reports" if CHECKOUT else Path("reports"),
                        help="where the reports go (default: reports/ of the checkout, else of the current directory)")
    args = parser.parse_args(argv)

    targets = Targets(**{name: getattr(args, name) for name, _ in Targets.options()},
                      dgds=[tuple(d.split("/", 1)) for d in args.dgd],
                      expect_rdma=args.expect_rdma, expect_efa=args.expect_efa)
    if args.embedded:
        from ..dataplane.embedded import EmbeddedDataPlane

        plane = EmbeddedDataPlane()
        print("starting the embedded data plane..." if not plane.healthy() else "reusing the embedded data plane", flush=True)
        plane.up()
        targets = dataclasses.replace(targets, **data_plane_targets(plane, restarts=args.faults))
    elif args.faults:
        parser.error("--faults needs --embedded: the harness restarts only processes it runs")
    if args.node == "local":
        targets.node_runner = node_checks.local_host()
    elif args.node:
        if not targets.kube:
            parser.error("--node <name> needs --kubeconfig or --in-cluster")
        targets.node_runner = node_checks.node_debug_host(targets.kube, args.node)
        targets.node_name = args.node
    if args.deploy:
        if not targets.kube:
            parser.error("--deploy needs --kubeconfig or --in-cluster")
        try:
            targets.deployment = _deployment(args)
        except ConfigError as err:
            parser.error(f"--deploy: {err}")
        targets.deploy_timeout, targets.keep_deployment = args.deploy_timeout, args.keep_deployment
    plan = LoadPlan(tuple(int(c) for c in args.concurrency.split(",")), args.requests_per_worker,
                    args.max_seconds, args.max_tokens, args.fault_repetitions)
    if not any([targets.frontend, targets.etcd, targets.nats, targets.operator_health, targets.kube, targets.node_runner]):
        parser.error("nothing to probe: give endpoints, --kubeconfig (or --in-cluster), --node or --embedded")

    print("dynamo-conformance", flush=True)
    results = run(targets, plan, lambda r: print(report.progress_line(r), flush=True))
    paths = report.write_all(results, args.report_dir,
                             header=report.run_header(targets.kube))
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
