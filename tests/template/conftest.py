import pytest

from dynamo_harness.paths import overlay_names


@pytest.fixture(params=overlay_names())
def overlay(request) -> str:
    """Each overlay under values/, the test id being the overlay's name."""
    return request.param


# Every optional component and hook job switched on, so no pod escapes a check.
EVERYTHING_ON = {
    "global.grove.install": True,
    "global.kai-scheduler.install": True,
    "global.lws.install": True,
    "snapshot.enabled": True,
    "dynamo-operator.checkpoint.enabled": True,
    "global.etcd.auth.enabled": True,
    "global.nats.auth.enabled": True,
    "global.etcd.tls.enabled": True,
    "global.nats.tls.enabled": True,
    "global.networkPolicy.enabled": True,
    "global.monitoring.enabled": True,
    "inference-gateway.enabled": True,
    "inference-gateway.pool.dynamoGraphDeployment": "vllm-agg",
    "inference-gateway.route.gateway.name": "inference-gateway",
}
# APIs whose objects render only where the cluster serves them (helm template --api-versions).
OPTIONAL_APIS = ["monitoring.coreos.com/v1"]
CLUSTER_SCOPED_INSTALLS = ("global.grove.install", "global.kai-scheduler.install", "global.lws.install")


@pytest.fixture(scope="session")
def everything_on():
    """everything_on(overlay) -> values turning on every component the overlay allows (render with
    api_versions=OPTIONAL_APIS for the objects that also need an API the cluster serves)."""

    def _values(overlay: str | None = None) -> dict:
        if overlay == "namespace-restricted":
            return {k: v for k, v in EVERYTHING_ON.items() if k not in CLUSTER_SCOPED_INSTALLS}
        return dict(EVERYTHING_ON)

    return _values


@pytest.fixture(scope="session")
def optional_apis() -> list[str]:
    return list(OPTIONAL_APIS)
