import pytest

from dynamo_harness.helm import OPTIONAL_APIS, values_args
from dynamo_harness.helm import everything_on as everything_on_values
from dynamo_harness.paths import CHART, overlay_names


@pytest.fixture(params=overlay_names())
def overlay(request) -> str:
    """Each overlay under values/, the test id being the overlay's name."""
    return request.param


@pytest.fixture(scope="session")
def dry_run_install(helm):
    """dry_run_install(overlay=None) -> the output of `helm install --dry-run=client` (NOTES included)."""
    if helm.major_version() == 3:
        pytest.skip("Helm 3's install --dry-run=client still checks that a cluster is reachable; helm template covers its render")

    def _install(overlay: str | None = None) -> str:
        return helm.run("install", "dynamo-platform", str(CHART), "--namespace", "dynamo-system", "--dry-run=client",
                        *values_args(overlay, None))

    return _install


@pytest.fixture(scope="session")
def everything_on():
    """everything_on(overlay) -> values turning on every component the overlay allows."""
    return everything_on_values


# GitOps mode with every secret from outside the chart: the webhook certificate from cert-manager,
# the etcd and NATS credentials and TLS from Secrets the user created (docs/gitops.md).
GITOPS = {
    "global.gitops.enabled": True,
    "dynamo-operator.webhook.certManager.enabled": True,
    "dynamo-operator.webhook.certManager.issuerRef.name": "dynamo-ca",
    "global.etcd.auth.existingSecret": "etcd-root",
    "global.etcd.tls.existingSecret": "etcd-tls",
    "global.nats.auth.existingSecret": "nats-auth",
    "global.nats.tls.existingSecret": "nats-tls",
}


@pytest.fixture(scope="session")
def gitops_values(everything_on):
    """gitops_values(overlay, everything=True) -> GitOps-mode values, with every component the overlay allows on."""

    def _values(overlay: str | None = None, everything: bool = True) -> dict:
        return {**(everything_on(overlay) if everything else {}), **GITOPS}

    return _values


@pytest.fixture(scope="session")
def optional_apis() -> list[str]:
    """APIs whose objects render only where the cluster serves them (helm template --api-versions)."""
    return list(OPTIONAL_APIS)
