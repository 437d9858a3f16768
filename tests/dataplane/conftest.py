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
    the next test gets a plane that serves the model and has settled."""
    reference = plane.instances()
    yield plane
    for attempt in (1, 2, 3, 4):  # a process the fault unsettled may still exit while the others start
        try:
            for name in [name for name in COMPONENTS if not plane.processes.alive(name)]:
                plane.start(name)
            plane.processes.wait(plane.healthy, "the model served again", 120, list(COMPONENTS))
            # Requests routed to a dead worker the frontend still lists got 503 "no backend worker
            # available" in the next tests.
            plane.processes.wait(plane.routes_only_live_workers, "the frontend to drop dead workers from its routes",
                                 90, list(COMPONENTS))
        except ProcessError:
            if attempt == 4:
                raise
            continue
        now = plane.instances()
        changed = [name for name in COMPONENTS if now.get(name) != reference.get(name)]
        if not changed:
            return
        # The clients of a component that restarted stay unsettled for its window (a lapsed lease, a
        # NATS reconnect) after it started, though the plane served again: fresh-clone runs met 503s
        # and a failed chat in the next tests. Wait out what is left of it, then look again.
        left = [WINDOWS[name].seconds - (time.time() - (plane.processes.started_at(name) or 0)) for name in changed]
        time.sleep(max(0.0, *left))
        reference = now
    pytest.fail(f"the data plane did not settle after 4 windows: {plane.instances()}")
