"""`make up`: the product's main job on this machine, as a short script of named steps.

Every overlay renders; the local cluster (a real control plane with kwok nodes) comes up; the
chart is installed on it with the default overlay and each workload must roll out; the
documented DGD examples validate against the installed CRDs; the embedded data plane (real etcd,
NATS/JetStream, Dynamo frontend and mocker) starts; the conformance probes run against it. Each
step returns ProbeResults, so the console, `reports/up.*` and the conformance reports are views
of one list. `down` stops what `up` started and keeps the reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .clusters.local import LocalCluster
from .conformance import health, node, report, suite
from .conformance.result import ProbeResult, failed, passed, timed
from .dataplane import EmbeddedDataPlane
from .deploy.config import parse
from .helm import Helm, HelmError
from .kube import KubectlError
from .paths import EXAMPLES, ROOT, overlay_names
from .release import SCHEMA_ONLY_LABELS, SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, Release

REPORTS = ROOT / "reports"
DEFAULT_OVERLAY = "kind"
# The examples validate, and the deploy stage applies its DGD, in a namespace the webhooks skip:
# no operator process runs locally to answer them.
SCHEMA_NAMESPACE = "dynamo-examples"


@dataclass
class Session:
    """What the steps share: the overlay, and what earlier steps started."""

    overlay: str
    cluster: LocalCluster = field(default_factory=LocalCluster)
    plane: EmbeddedDataPlane = field(default_factory=EmbeddedDataPlane)

    @property
    def release(self) -> Release:
        return Release(self.cluster.kubectl, base_values=SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES)


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

    return [timed("up/local-cluster", start)]


def install_platform(s: Session) -> list[ProbeResult]:
    def install():
        s.cluster.prepare_install()
        try:
            s.release.install(s.overlay)
        except HelmError as err:
            return failed(_helm_message(err))
        return passed(f"helm upgrade --install --wait, {s.overlay} overlay")

    return [timed("up/helm-install", install)]


def workloads_rolled_out(s: Session) -> list[ProbeResult]:
    return health.workloads_rolled_out(s.cluster.kubectl, s.release.namespace)


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
    def start():
        created = s.plane.up()
        return passed(f"{'started' if created else 'reused'}: frontend {s.plane.frontend_url}, etcd {s.plane.etcd_url}, "
                      f"NATS {s.plane.nats_url} (processes on 127.0.0.1)")

    return [timed("up/embedded-data-plane", start)]


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
    (workloads_rolled_out, False),
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
    if cluster.healthy():
        Release(cluster.kubectl).uninstall(wait=False)
    cluster.down()
    EmbeddedDataPlane().down()
    print(f"local cluster and data plane stopped; reports kept in {REPORTS}")
