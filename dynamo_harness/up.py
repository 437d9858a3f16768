"""`make up`: the product's main job on this machine, as a short script of named steps.

Every overlay renders; the local cluster comes up: a real control plane with kwok GPU pools and,
where this machine can run containers, one real node (containerd + kubelet), else kwok-only with
the reason. The chart is installed with the default overlay (on the real node also
values/local/real-node.yaml, so etcd and NATS run there from images built here) and each workload
must roll out, saying where its pods run; on the real node `helm test` runs the chart's probe pods.
The documented DGD examples validate against the installed CRDs. The data plane starts: the
Dynamo frontend and mocker as pods on the real node, reaching the chart's etcd and NATS by DNS
(else the embedded processes on 127.0.0.1); the conformance probes run against it. Each step
returns ProbeResults, so the console, `reports/up.*` and the conformance reports are views of one
list. `down` stops what `up` started and keeps the reports.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .cluster_dataplane import ClusterDataPlane
from .clusters import node as real_node
from .clusters.kind import KindCluster
from .clusters.local import LocalCluster
from .conformance import health, node, report, suite
from .conformance.result import ProbeResult, failed, passed, skipped, timed
from .dataplane import EmbeddedDataPlane
from .deploy.config import parse
from .helm import Helm, HelmError
from .kube import KubectlError
from .paths import EXAMPLES, ROOT, overlay_names
from .processes import ProcessError, Supervisor
from .release import NO_STORAGE_MIGRATION, SCHEMA_ONLY_LABELS, SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, Release

REPORTS = ROOT / "reports"
DEFAULT_OVERLAY = "kind"
# On the real node, etcd, NATS and the helm test pods run from the images built here.
REAL_NODE_OVERLAY = "local/real-node"
# The examples validate, and the deploy stage applies its DGD, in a namespace the webhooks skip:
# no operator process runs locally to answer them.
SCHEMA_NAMESPACE = "dynamo-examples"


@dataclass
class Session:
    """What the steps share: the overlay, and what earlier steps started."""

    overlay: str
    cluster: LocalCluster = field(default_factory=LocalCluster)
    plane: ClusterDataPlane | EmbeddedDataPlane | None = None  # set by start_data_plane

    @property
    def release(self) -> Release:
        return Release(self.cluster.kubectl, base_values={**SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, **NO_STORAGE_MIGRATION})

    @property
    def overlays(self) -> list[str]:
        return [self.overlay, REAL_NODE_OVERLAY] if self.cluster.real_node else [self.overlay]

    def data_plane(self) -> ClusterDataPlane | EmbeddedDataPlane:
        """Pods on the real node where there is one, else the embedded processes."""
        if self.cluster.real_node:
            return ClusterDataPlane(self.cluster.kubectl, self.release.namespace, self.release.name)
        return EmbeddedDataPlane()


def _helm_message(err: HelmError) -> str:
    return err.stderr.strip().splitlines()[-1] if err.stderr.strip() else str(err)


def render_overlays(s: Session) -> list[ProbeResult]:
    def render(name: str):
        try:
            return passed(f"{len(Helm().template(overlay=name))} objects")
        except HelmError as err:
            return failed(_helm_message(err))

    return [timed(f"up/render-{name}", lambda name=name: render(name)) for name in overlay_names()]


def start_cluster(s: Session) -> list[ProbeResult]:
    def start():
        created = s.cluster.up()
        return passed(f"{'started' if created else 'reused'}; KUBECONFIG={s.cluster.kubeconfig}")

    return [timed("up/local-cluster", start), *s.cluster.node_report()]


def install_platform(s: Session) -> list[ProbeResult]:
    def install():
        s.cluster.prepare_install()
        try:
            s.release.install(s.overlays)
        except HelmError as err:
            return failed(_helm_message(err))
        return passed(f"helm upgrade --install --wait, overlays {' + '.join(s.overlays)}; the storage-migration hook "
                      "off (locally its pod would be simulated or find no route to the API server)")

    return [timed("up/helm-install", install)]


def workloads_rolled_out(s: Session) -> list[ProbeResult]:
    return health.workloads_rolled_out(s.cluster.kubectl, s.release.namespace)


CONVERSION = Supervisor(ROOT / ".cache" / "conversion-standin")


def conversion_standin(s: Session) -> list[ProbeResult]:
    """The CRDs convert v1alpha1 <-> v1beta1 through the operator's webhook, and no operator runs
    here: a stand-in serves the webhook Service with the chart's certificate, so the API users
    apply works. It maps no fields; it says so in the report."""
    def start():
        CONVERSION.stop(["conversion-standin"])
        CONVERSION.state_dir.mkdir(parents=True, exist_ok=True)
        args = ["--kubeconfig", str(s.cluster.kubeconfig), "--secret", f"{s.release.name}-webhook-server-cert"]
        if s.cluster.real_node:
            args += ["--node-ip", real_node.NODE_IP]
        CONVERSION.start("conversion-standin", [sys.executable, "-m", "dynamo_harness.clusters.conversion_standin", *args])
        try:
            CONVERSION.wait(lambda: "conversion stand-in for" in CONVERSION.tails(["conversion-standin"]),
                            "the conversion stand-in to listen", 30, ["conversion-standin"])
        except ProcessError as err:
            return failed(str(err).splitlines()[-1])
        return passed("serves /convert on the operator's webhook Service with the chart's CA: a stand-in, since no "
                      "operator image can be built here; it sets apiVersion and maps no fields")

    return [timed("up/conversion-webhook", start)]


def helm_test(s: Session) -> list[ProbeResult]:
    """`helm test`: the chart's probe pods, for real on the real node (kwok would only pretend)."""
    def run():
        if not s.cluster.real_node:
            return skipped(f"kwok-only ({s.cluster.node_mode}): the probe pods would be simulated, not run")
        operator_probe = f"{s.release.name}-test-operator"
        try:
            s.release.test(leave_out=[operator_probe])
        except HelmError as err:
            return failed(err.stderr.strip()[-300:])
        return passed(f"the etcd and NATS probe pods ran on the real node and exited 0; {operator_probe} left out: "
                      "the operator is simulated (kwok), no operator image can be built here")

    return [timed("up/helm-test", run)]


def validate_examples(s: Session) -> list[ProbeResult]:
    kubectl = s.cluster.kubectl
    kubectl.apply([{"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": SCHEMA_NAMESPACE, "labels": SCHEMA_ONLY_LABELS}}])

    def validate(example):
        try:
            kubectl.run("apply", "--dry-run=server", "-n", SCHEMA_NAMESPACE, "-f", str(example))
        except KubectlError as err:
            return failed(err.stderr.strip())
        return passed("accepted by the API server (server-side dry run)")

    return [timed(f"up/example-{example.stem}", lambda example=example: validate(example))
            for example in sorted(EXAMPLES.glob("*.yaml"))]


def start_data_plane(s: Session) -> list[ProbeResult]:
    plane = s.plane = s.data_plane()
    where = "pods on the real node, forwarded to 127.0.0.1" if s.cluster.real_node else "processes on 127.0.0.1"

    def start():
        created = plane.up()
        return passed(f"{'started' if created else 'reused'}: frontend {plane.frontend_url}, etcd {plane.etcd_url}, "
                      f"NATS {plane.nats_url} ({where})")

    results = [timed("up/data-plane", start)]
    if results[0].ok and s.cluster.real_node:
        results += plane.placement()
    return results


def conformance(s: Session) -> list[ProbeResult]:
    targets = suite.Targets(**suite.data_plane_targets(s.plane, restarts=True), kubeconfig=s.cluster.kubeconfig,
                            node_runner=node.local_runner,
                            deployment=parse({"runtime": "vllm", "topology": "agg", "model": "Qwen/Qwen3-0.6B",
                                              "namespace": SCHEMA_NAMESPACE}))
    results = suite.run(targets, suite.LoadPlan(), lambda r: print(report.progress_line(r), flush=True))
    paths = report.write_all(results, REPORTS, header=report.run_header(s.cluster.kubectl))
    print("conformance: " + ", ".join(str(p) for p in paths.values()))
    return results


Step = Callable[[Session], list[ProbeResult]]
# (step, whether the steps after it need it to pass)
STEPS: list[tuple[Step, bool]] = [
    (render_overlays, False),
    (start_cluster, True),
    (install_platform, True),
    (conversion_standin, False),
    (workloads_rolled_out, False),
    (helm_test, False),
    (validate_examples, False),
    (start_data_plane, True),
    (conformance, False),
]


def up(overlay: str = DEFAULT_OVERLAY) -> int:
    print(f"dynamo-harness up ({overlay})", flush=True)
    session = Session(overlay)
    results: list[ProbeResult] = []
    started = time.monotonic()
    for step, required in STEPS:
        batch = step(session)
        if step is not conformance:  # the conformance run prints its own progress
            for result in batch:
                print(report.progress_line(result), flush=True)
        results += batch
        if required and not all(r.ok for r in batch):
            break
    header = {"overlay": overlay, **report.run_header(session.cluster.kubectl if session.cluster.healthy() else None),
              "took": f"{time.monotonic() - started:.1f}s"}
    paths = report.write_all(results, REPORTS, stem="up", title="dynamo-platform: make up", header=header)
    print(report.summary(results))
    print(f"report: {paths['markdown']}")
    return 0 if all(r.ok for r in results) else 1


def down() -> None:
    """Uninstall the release, stop the local cluster and the data plane. Reports stay (make clean removes them)."""
    cluster = LocalCluster()
    ClusterDataPlane(cluster.kubectl).down()  # its port-forwards, whichever mode ran
    CONVERSION.remove(["conversion-standin"])
    if cluster.healthy():
        Release(cluster.kubectl).uninstall(wait=False)
    cluster.down()
    EmbeddedDataPlane().down()
    KindCluster().down()  # a kind cluster of `make test-kind --keep-cluster`, and its private dockerd
    print(f"local cluster and data plane stopped; reports kept in {REPORTS}")
