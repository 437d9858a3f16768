"""dynamo-harness: the command line of the harness.

`up` is the product's main job on this machine: every overlay renders, the local cluster (a
real control plane with kwok nodes) comes up, the chart is installed on it with the default
overlay and checked, the documented DGD examples validate against the installed CRDs, the
embedded data plane (real etcd, NATS/JetStream, Dynamo frontend and mocker) starts, and the
conformance probes run against it. It writes the reports and prints their paths. `down` stops
it all.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import time

from .clusters.local import LocalCluster
from .conformance import cli as conformance
from .conformance import node, report
from .dataplane import MODEL, EmbeddedDataPlane
from .deploy import commands as deploy_commands
from .deploy.config import parse
from .helm import Helm, HelmError, values_args
from .kube import KubectlError, condition
from .paths import CHART, EXAMPLES, ROOT, overlay_names

REPORTS = ROOT / "reports"
DEFAULT_OVERLAY = "kind"
RELEASE, NAMESPACE = "dynamo-platform", "dynamo-system"
# The examples are validated in a namespace the webhooks skip: no operator process runs locally.
SCHEMA_NAMESPACE = "dynamo-examples"
WEBHOOK_SELECTOR = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [SCHEMA_NAMESPACE]}]}


def up(overlay: str) -> int:
    helm = Helm()
    lines = [f"# dynamo-platform: `make up` report\n\nOverlay: `{overlay}`\n", "| check | result | detail |", "| --- | --- | --- |"]
    failed = False

    def record(check: str, ok: bool, detail: str) -> None:
        nonlocal failed
        failed |= not ok
        lines.append(f"| {check} | {'pass' if ok else 'FAIL'} | {detail} |")
        print(f"  {'pass' if ok else 'FAIL'}  {check}: {detail}", flush=True)

    print(f"dynamo-harness up ({overlay})", flush=True)
    for name in overlay_names():
        started = time.monotonic()
        try:
            count = len(helm.template(overlay=name))
            record(f"render {name}", True, f"{count} objects in {time.monotonic() - started:.2f}s")
        except HelmError as err:
            record(f"render {name}", False, err.stderr.strip().splitlines()[0])
    cluster = LocalCluster()
    started = time.monotonic()
    created = cluster.up()
    record("local cluster", True, f"{'started' if created else 'reused'} in {time.monotonic() - started:.1f}s; "
           f"KUBECONFIG={cluster.kubeconfig}")
    cluster.prepare_install()
    helm = Helm(env={"KUBECONFIG": str(cluster.kubeconfig)})
    kubectl = cluster.kubectl
    started = time.monotonic()
    try:
        helm.run("upgrade", "--install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--create-namespace",
                 "--wait", "--timeout", "180s",
                 *values_args(overlay, {"dynamo-operator.webhook.namespaceSelector": WEBHOOK_SELECTOR}))
        record("helm install --wait", True, f"{overlay} overlay in {time.monotonic() - started:.1f}s")
    except HelmError as err:
        record("helm install --wait", False, err.stderr.strip().splitlines()[-1])
        return _finish(lines, failed)
    for workload in kubectl.items("deployments,statefulsets", "-n", NAMESPACE):
        ready, wanted = workload["status"].get("readyReplicas", 0), workload["spec"]["replicas"]
        record(f"{workload['kind']} {workload['metadata']['name']}", ready == wanted, f"{ready}/{wanted} ready")
    crds = kubectl.items("crds", "-l", "app.kubernetes.io/part-of=dynamo-platform")
    established = [c for c in crds if condition(c, "Established").get("status") == "True"]
    record("CRDs established", len(established) == len(crds) > 0, f"{len(established)}/{len(crds)}")
    kubectl.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SCHEMA_NAMESPACE}}])
    for example in sorted(EXAMPLES.glob("*.yaml")):
        try:
            kubectl.run("apply", "--dry-run=server", "-n", SCHEMA_NAMESPACE, "-f", str(example))
            record(f"example {example.stem}", True, "accepted by the API server (server-side dry run)")
        except KubectlError as err:
            record(f"example {example.stem}", False, err.stderr.strip())
    plane = EmbeddedDataPlane()
    started = time.monotonic()
    created = plane.up()
    record("embedded data plane", True, f"{'started' if created else 'reused'} in {time.monotonic() - started:.1f}s; "
           f"frontend {plane.frontend_url}, etcd {plane.etcd_url}, NATS {plane.nats_url}")
    targets = conformance.Targets(frontend=plane.frontend_url, model=MODEL, etcd=plane.etcd_url,
                                  nats=plane.nats_url, nats_monitor=plane.nats_monitor_url,
                                  kubeconfig=cluster.kubeconfig, node_runner=node.local_runner,
                                  restarts={name: functools.partial(plane.restart, name) for name in ("etcd", "nats")},
                                  deployment=parse({"runtime": "vllm", "topology": "agg", "model": "Qwen/Qwen3-0.6B",
                                                    "namespace": SCHEMA_NAMESPACE}))
    results = conformance.run(targets, conformance.LoadPlan(), lambda r: print(report.progress_line(r), flush=True))
    paths = report.write_all(results, REPORTS)
    record("conformance probes", all(r.ok for r in results), report.summary(results).splitlines()[-1])
    lines.append("\n## Conformance\n\nFull report: [conformance.html](conformance.html), [conformance.md](conformance.md), "
                 "JUnit: conformance.xml\n")
    lines += report.latency_table_markdown(results)
    print("conformance: " + ", ".join(str(p) for p in paths.values()))
    return _finish(lines, failed)


def _finish(lines: list[str], failed: bool) -> int:
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / "up.md"
    report.write_text("\n".join(lines))
    print(f"report: {report}")
    return 1 if failed else 0


def down() -> int:
    cluster = LocalCluster()
    if cluster.healthy():
        Helm(env={"KUBECONFIG": str(cluster.kubeconfig)}).run("uninstall", RELEASE, "--namespace", NAMESPACE)
    cluster.down()
    EmbeddedDataPlane().down()
    shutil.rmtree(REPORTS, ignore_errors=True)
    print("local cluster and data plane stopped; reports/ removed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dynamo-harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="bring the local platform up and check it")
    up_parser.add_argument("--overlay", default=DEFAULT_OVERLAY, choices=overlay_names())
    up_parser.set_defaults(handler=lambda args: up(args.overlay))
    sub.add_parser("down", help="undo up").set_defaults(handler=lambda args: down())
    deploy_commands.register(sub)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
