"""`make up`: the product's main job on this machine, as a short script of named steps.

Every overlay renders; the local cluster comes up: a real control plane with kwok GPU pools and,
where this machine can run containers, one real node (containerd + kubelet), else kwok-only with
the reason. The chart is installed with the default overlay (on the real node also
values/local/real-node.yaml, so whatever runs there runs from images built here) and each workload
must roll out, saying where its pods run. The documented DGD examples validate against the
installed CRDs. The data plane starts: the Dynamo frontend and mocker as pods on the real node,
wired as the installed operator wires workloads (read from the release), else the embedded
processes on 127.0.0.1; on the real node `helm test` runs the chart's probe pods, one of them
through the frontend; the conformance probes, faults included, run against it. Each step returns
ProbeResults, so the console, `reports/up.*` and the conformance reports are views of one list.

`up` can run again on a running cluster, or after a failed run: each step checks what is there
and keeps only what answers (the cluster's components, the release, the data plane's pods), and
the probes dial Services, not pods. `down` stops what `up` started and keeps the reports.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .clusters import real_node
from .clusters.kind import KindCluster
from .clusters.local import LocalCluster
from .conformance import health, node_checks, report, suite
from .dataplane import DataPlane
from .dataplane.in_cluster import FRONTEND_PORT, FRONTEND_SERVICE, ClusterDataPlane, WiringError
from .dataplane.embedded import EmbeddedDataPlane
from .deploy.config import parse
from .helm import Helm, HelmError
from .kube import KubectlError
from .kube_api import KubeApi, KubeApiError
from .paths import EXAMPLES, ROOT, overlay_names
from .processes import ProcessError, Supervisor
from .helm_release import NO_STORAGE_MIGRATION, SCHEMA_ONLY_LABELS, SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, Release
from .results import ProbeResult, failed, passed, skipped, timed
from .tiny_model import MODEL

REPORTS = ROOT / "reports"
DEFAULT_OVERLAY = "kind"
# On the real node, etcd, NATS and the helm test pods run from the images built here.
REAL_NODE_OVERLAY = "local/real-node"
# The examples validate, and the deploy stage applies its DGD, in a namespace the webhooks skip:
# no operator process runs locally to answer them.
SCHEMA_NAMESPACE = "dynamo-examples"


class RealNodeMode:
    """The cluster has a real node: etcd, NATS (where installed) and the `helm test` pods run there
    from images built here, and so does the data plane, as pods wired like the operator's."""

    overlays = [REAL_NODE_OVERLAY]

    def install_values(self, release: Release) -> dict:
        # `helm test` sends one chat completion through the in-cluster frontend's Service.
        return {"tests.inference.endpoint": f"http://{FRONTEND_SERVICE}.{release.namespace}.svc.cluster.local:{FRONTEND_PORT}",
                "tests.inference.model": MODEL}

    def data_plane(self, s: Session) -> ClusterDataPlane:
        return ClusterDataPlane(KubeApi.like(s.cluster.kubectl), s.release.namespace, s.release.name)

    def why_not_real(self) -> str | None:
        return None


@dataclass(frozen=True)
class KwokOnlyMode:
    """No real node here (the reason says why): every pod is simulated, so `helm test` is skipped
    and the data plane runs as processes on 127.0.0.1 with etcd discovery (no Kubernetes API)."""

    reason: str
    overlays = []

    def install_values(self, release: Release) -> dict:
        return {}

    def data_plane(self, s: Session) -> EmbeddedDataPlane:
        return EmbeddedDataPlane()

    def why_not_real(self) -> str | None:
        return f"kwok-only ({self.reason})"


@dataclass
class Session:
    """What the steps share: the overlay, the node mode (chosen once the cluster is up), and what
    earlier steps started."""

    overlay: str
    cluster: LocalCluster = field(default_factory=LocalCluster)
    reports: Path = REPORTS
    fault_repetitions: int = suite.LoadPlan.fault_repetitions
    mode: RealNodeMode | KwokOnlyMode | None = None  # set by start_cluster
    plane: DataPlane | None = None  # set by start_data_plane

    @property
    def release(self) -> Release:
        return Release(self.cluster.kubectl, base_values={**SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, **NO_STORAGE_MIGRATION})

    @property
    def overlays(self) -> list[str]:
        return [self.overlay, *self.mode.overlays]


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
        s.mode = RealNodeMode() if s.cluster.real_node else KwokOnlyMode(s.cluster.node_mode)
        return passed(f"{'started' if created else 'reused (its components answered)'}; KUBECONFIG={s.cluster.kubeconfig}")

    return [timed("up/local-cluster", start), *s.cluster.node_report()]


def install_platform(s: Session) -> list[ProbeResult]:
    def install():
        s.cluster.prepare_install()
        try:
            s.release.install(s.overlays, s.mode.install_values(s.release))
        except HelmError as err:
            return failed(_helm_message(err))
        return passed(f"helm upgrade --install --wait, overlays {' + '.join(s.overlays)}; the storage-migration hook "
                      "off (locally its pod would be simulated or find no route to the API server)")

    return [timed("up/helm-install", install)]


def workloads_rolled_out(s: Session) -> list[ProbeResult]:
    return health.workloads_rolled_out(KubeApi(s.cluster.kubeconfig), s.release.namespace)


CONVERSION = Supervisor(ROOT / ".cache" / "conversion-standin")


def conversion_standin(s: Session) -> list[ProbeResult]:
    """The CRDs convert v1alpha1 <-> v1beta1 through the operator's webhook, and no operator runs
    here: a stand-in serves the webhook Service with the chart's certificate, so the API users
    apply works. It maps no fields; it says so in the report."""
    def start():
        # The last run's log goes too: the ready line waited for below must be this process's.
        CONVERSION.remove(["conversion-standin"])
        args = ["--kubeconfig", str(s.cluster.kubeconfig), "--secret", f"{s.release.name}-webhook-server-cert"]
        if not s.mode.why_not_real():
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
    """`helm test`: the chart's probe pods of the installed release (etcd and NATS where installed,
    one chat completion through the in-cluster frontend), for real on the real node."""
    def run():
        if reason := s.mode.why_not_real():
            return skipped(f"{reason}: the probe pods would be simulated, not run")
        operator_probe = f"{s.release.name}-test-operator"
        try:
            output = s.release.test(leave_out=[operator_probe])
        except HelmError as err:
            return failed(err.stderr.strip()[-300:])
        ran = sorted(set(re.findall(rf"TEST SUITE:\s+{re.escape(s.release.name)}-test-(\S+)", output)) - {"operator"})
        return passed(f"probe pods {', '.join(ran)} ran on the real node and exited 0; {operator_probe} left out: "
                      "the operator is simulated (kwok), no operator image can be built here", probes=len(ran))

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
    plane = s.plane = s.mode.data_plane(s)

    def start():
        try:
            created = plane.up()
        except (KubeApiError, ProcessError, TimeoutError, WiringError) as err:
            return failed(str(err).strip().splitlines()[0][:300])
        if isinstance(plane, EmbeddedDataPlane):
            how = (f"processes on 127.0.0.1 with etcd discovery and the NATS event plane ({s.mode.why_not_real()}: "
                   "no pod can run, so the operator's Kubernetes wiring cannot be tested here)")
        else:
            how = f"pods on {plane.placement.where}, wired as the operator wires workloads: {plane.wiring.describe()}"
        return passed(f"{'started' if created else 'checked and kept'}: frontend {plane.frontend_url}; {how}")

    results = [timed("up/data-plane", start)]
    if results[0].ok and isinstance(plane, ClusterDataPlane):
        results += plane.placement_results()
    return results


def conformance(s: Session) -> list[ProbeResult]:
    targets = suite.Targets(**suite.data_plane_targets(s.plane, restarts=True), kubeconfig=s.cluster.kubeconfig,
                            node_runner=node_checks.local_host(),
                            deployment=parse({"runtime": "vllm", "topology": "agg", "model": "Qwen/Qwen3-0.6B",
                                              "namespace": SCHEMA_NAMESPACE}))
    results = suite.run(targets, suite.LoadPlan(fault_repetitions=s.fault_repetitions), lambda r: print(report.progress_line(r), flush=True))
    paths = report.write_all(results, s.reports, header=report.run_header(KubeApi(s.cluster.kubeconfig)))
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
    (validate_examples, False),
    (start_data_plane, True),
    (helm_test, False),  # after the data plane: its inference probe goes through the frontend
    (conformance, False),
]


def up(overlay: str = DEFAULT_OVERLAY, cluster: LocalCluster | None = None, reports: Path = REPORTS,
       fault_repetitions: int = suite.LoadPlan.fault_repetitions) -> list[ProbeResult]:
    """Run every step and write the report; its results (`make up` passes when all did). A test
    gives its own cluster state dir, reports dir and fewer fault repetitions."""
    print(f"dynamo-harness up ({overlay})", flush=True)
    session = Session(overlay, cluster or LocalCluster(), reports, fault_repetitions)
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
    header = {"overlay": overlay, **report.run_header(KubeApi(session.cluster.kubeconfig) if session.cluster.healthy() else None),
              "took": f"{time.monotonic() - started:.1f}s"}
    paths = report.write_all(results, reports, stem="up", title="dynamo-platform: make up", header=header)
    print(report.summary(results))
    print(f"report: {paths['markdown']}")
    return results


def down(cluster: LocalCluster | None = None) -> None:
    """Uninstall the release, stop the local cluster and the data plane. Reports stay (make clean removes them)."""
    cluster = cluster or LocalCluster()
    CONVERSION.remove(["conversion-standin"])
    if cluster.healthy():
        ClusterDataPlane(KubeApi.like(cluster.kubectl)).down()
        Release(cluster.kubectl).uninstall(wait=False)
    cluster.down()
    EmbeddedDataPlane().down()
    KindCluster().down()  # a kind cluster of `make test-kind --keep-cluster`, and its private dockerd
    print(f"local cluster and data plane stopped; reports kept in {REPORTS}")
