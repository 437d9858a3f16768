"""The embedded data plane (real etcd, NATS/JetStream, Dynamo frontend and mocker on 127.0.0.1),
started once for the session in a temporary directory and stopped at the end."""

import time
from collections.abc import Iterator

import pytest

from dynamo_harness.dataplane import WINDOWS
from dynamo_harness.dataplane.embedded import COMPONENTS, EmbeddedDataPlane
from dynamo_harness.processes import ProcessError


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
    """For fault tests: whatever the test killed (or made exit) is started again afterwards, and
    the next test gets a plane that serves the model."""
    yield plane
    lease_waited = False
    for attempt in (1, 2, 3):  # a process the fault left without its lease may still exit while the others start
        restarted = [name for name in COMPONENTS if not plane.processes.alive(name)]
        try:
            for name in restarted:
                plane.start(name)
            if restarted:
                plane.processes.wait(plane.healthy, f"the model served again after restarting {restarted}", 120,
                                     list(COMPONENTS))
            if "etcd" in restarted and not lease_waited:
                # Its clients lost their leases: one still running may exit within the lease window, after
                # the plane served again (a fresh-clone run met 503s in the next two tests). Wait it out, look again.
                time.sleep(WINDOWS["etcd"].seconds)
                lease_waited = True
                continue
            return
        except ProcessError:
            if attempt == 3:
                raise

