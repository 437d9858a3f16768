"""The embedded data plane (real etcd, NATS/JetStream, Dynamo frontend and mocker on 127.0.0.1),
started once for the session in a temporary directory and stopped at the end."""

from collections.abc import Iterator

import pytest

from dynamo_harness.dataplane import COMPONENTS, EmbeddedDataPlane


@pytest.fixture(scope="session")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedDataPlane]:
    embedded = EmbeddedDataPlane(state_dir=tmp_path_factory.mktemp("dataplane"))
    if reason := embedded.unavailable():
        pytest.fail(reason)  # make test installs everything this layer needs
    embedded.up()
    yield embedded
    embedded.down()


@pytest.fixture
def healed(plane: EmbeddedDataPlane) -> Iterator[EmbeddedDataPlane]:
    """For fault tests: whatever the test killed is started again afterwards."""
    yield plane
    for name in COMPONENTS:
        if not plane.processes.alive(name):
            plane.start(name)

