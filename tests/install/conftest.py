"""Install-layer fixtures: a cluster from the chosen provider and releases that clean up after.

The install tests of one session share one cluster, so they run in one process. `make test` runs two
such sessions side by side: the tests marked real_node on the local cluster with its real node, and
the rest, in one xdist worker (LayerScheduling in tests/conftest.py), on a kwok-only local cluster
of their own (`--without-real-node`). Each session installs one cluster-wide platform release (it
owns the cluster-scoped CRDs); tests install further releases, each in a namespace of its own, and
uninstall them afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from dynamo_harness.clusters import Cluster, provider
from dynamo_harness.clusters.conversion_standin import ConversionStandin, crd_webhook_service
from dynamo_harness.clusters.local import LocalCluster
from dynamo_harness.helm import Helm
from dynamo_harness.kube import Kubectl, KubectlError
from dynamo_harness.kube_api import KubeApi
from dynamo_harness.manifests import load_all
from dynamo_harness.paths import CHART, ROOT
from dynamo_harness.helm_release import NO_STORAGE_MIGRATION, SCHEMA_ONLY_LABELS, SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, Release

PLATFORM_NAMESPACE = "dynamo-system"


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    name = request.config.getoption("--cluster")
    options = {}
    if name == "local" and request.config.getoption("--without-real-node"):
        options = {"state_dir": ROOT / ".cache" / "local-cluster-kwok-test", "with_real_node": False}
    elif name == "local":
        options = {"state_dir": ROOT / ".cache" / "local-cluster-test"}
    chosen = provider(name, **options)
    if reason := chosen.unavailable():
        pytest.skip(f"{name} cluster unavailable: {reason}")
    created = chosen.up()
    yield chosen
    if created and not request.config.getoption("--keep-cluster"):
        chosen.down()


@pytest.fixture(scope="session")
def node_cluster(cluster: Cluster) -> LocalCluster:
    """The local cluster with its real node; skips, naming why, elsewhere or where it runs kwok-only."""
    if not isinstance(cluster, LocalCluster):
        pytest.skip(f"the real node belongs to the local provider, not {cluster.name}")
    if not cluster.real_node:
        pytest.skip(f"local cluster is kwok-only: {cluster.node_mode}")
    return cluster


@pytest.fixture(scope="session")
def kubectl(cluster: Cluster) -> Kubectl:
    return cluster.kubectl


@pytest.fixture(scope="session")
def kube_api(cluster: Cluster) -> KubeApi:
    """The cluster's API through the `kubernetes` client, as the conformance probes reach it."""
    return KubeApi.like(cluster.kubectl)


@pytest.fixture(scope="session")
def cluster_helm(cluster: Cluster) -> Helm:
    return Helm(env={"KUBECONFIG": str(cluster.kubectl.kubeconfig)})


def new_namespace(kubectl: Kubectl, labels: dict[str, str] | None = None) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}])
    return name


def delete_namespace(kubectl: Kubectl, name: str) -> None:
    """Start deleting; the namespace controller finishes in the background."""
    try:
        kubectl.run("delete", "namespace", name, "--wait=false")
    except KubectlError:
        pass  # already gone


@pytest.fixture(scope="session")
def platform(cluster: Cluster, kubectl: Kubectl) -> Iterator[Release]:
    """The session's cluster-wide release with default values: it owns the Dynamo CRDs. Its
    webhooks skip the namespaces of `schema_only_namespace` (no operator answers them here); on
    `local` its storage-migration hook is off (it would not really run there, see helm_release.py)."""
    cluster.prepare_install()
    base_values = {**SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, **(NO_STORAGE_MIGRATION if cluster.name == "local" else {}),
                   **cluster.install_values()}
    release = Release(kubectl, namespace=PLATFORM_NAMESPACE, base_values=base_values)
    release.install()
    yield release
    release.uninstall(wait=False)
    delete_namespace(kubectl, PLATFORM_NAMESPACE)


@pytest.fixture(scope="session")
def conversion_standin(cluster: Cluster, kube_api: KubeApi, platform: Release) -> Iterator[ConversionStandin | None]:
    """Where the operator cannot run (local, kind here), serves the CRDs' conversion webhook in its
    place (see conversion_standin.py); elsewhere the real operator does and this yields None."""
    if not cluster.simulates_operator:
        yield None
        return
    namespace, service = crd_webhook_service(kube_api)
    try:
        standin = ConversionStandin.for_release(kube_api, namespace, service, f"{platform.name}-webhook-server-cert",
                                                 cluster.webhook_standin_address)
    except OSError as err:
        pytest.skip(f"the conversion stand-in cannot listen on the webhook Service address: {err}")
    with standin:
        standin.wait_reached(kube_api, namespace)
        yield standin


def crd_names(kubectl: Kubectl) -> set[str]:
    return {name.split("/", 1)[1] for name in kubectl.run("get", "crds", "-o", "name").split()}


@pytest.fixture(scope="session")
def subchart_crds() -> frozenset[str]:
    """The CRDs in the subcharts' crds/ folders (Grove, KAI, LWS): Helm installs them with a release
    that turns the subchart on and never deletes them."""
    return frozenset(doc["metadata"]["name"] for path in CHART.glob("charts/*/crds/*.yaml")
                     for doc in load_all(path.read_text()))


@pytest.fixture
def subchart_crds_removed(kubectl: Kubectl, platform: Release, subchart_crds: frozenset[str]) -> Iterator[None]:
    """After the test, deletes the crds/ CRDs its releases brought, so they do not outlive it. A CRD
    there before the test stays: the session release's, or one the cluster already had. A deletion
    the API server is still finishing (it deletes every object of the CRD first, slow on a loaded
    machine) is waited for before the test, so its install does not meet a Terminating CRD."""
    def none_terminating():
        return not [c for c in kubectl.items("crds") if c["metadata"]["name"] in subchart_crds
                    and c["metadata"].get("deletionTimestamp")]

    kubectl.wait_for(none_terminating, "subchart CRDs deleted by an earlier test to be gone", timeout=300, interval=2)
    before = crd_names(kubectl)
    yield
    if brought := sorted((crd_names(kubectl) & subchart_crds) - before):
        # Each is deleted once a list of its objects answers: deleted before its watch cache is ready,
        # a CRD can stay Terminating for minutes ("could not list instances: storage is
        # (re)initializing"), which the next test would wait out.
        for name in brought:
            kubectl.wait_for(lambda: kubectl.run("get", name, "--all-namespaces", "-o", "name") is not None,
                             f"{name} to answer a list", timeout=60, interval=1, not_yet=(KubectlError,))
        kubectl.run("delete", "crd", *brought, "--wait=false")


@pytest.fixture
def install(cluster: Cluster, kubectl: Kubectl, platform: Release, conversion_standin: ConversionStandin | None,
            subchart_crds_removed: None) -> Iterator[Callable[..., Release]]:
    """install(overlay=None, values=None, wait=True, chart=CHART, namespace_labels=None) -> Release in a fresh namespace.

    The CRDs stay with the session's platform release (crds.enabled=false here), since a
    cluster-scoped object can have only one owning release. Its teardown uninstalls the releases
    before subchart_crds_removed (set up first) deletes the subchart CRDs they brought.
    """
    made: list[Release] = []

    def _install(overlay: str | None = None, values: dict | None = None, wait: bool = True,
                 release: str = "dynamo-platform", chart=CHART, namespace_labels: dict | None = None) -> Release:
        cluster.prepare_install()
        handle = Release(kubectl, release, new_namespace(kubectl, namespace_labels),
                         {"dynamo-operator.crds.enabled": False, **cluster.install_values()})
        made.append(handle)
        handle.install(overlay, values, wait=wait, timeout=120, chart=chart)
        return handle

    yield _install
    for handle in made:
        try:
            handle.uninstall(wait=False)
        except Exception:  # noqa: BLE001 - the test may have uninstalled it already
            pass
        delete_namespace(kubectl, handle.namespace)


@pytest.fixture
def schema_only_namespace(kubectl: Kubectl, platform: Release, conversion_standin: ConversionStandin | None) -> Iterator[str]:
    """A namespace the platform's webhooks skip, for checks of the CRD schemas alone."""
    name = new_namespace(kubectl, SCHEMA_ONLY_LABELS)
    yield name
    delete_namespace(kubectl, name)
