"""Shared fixtures (the pinned helm binary, a session cache of rendered charts), the layer markers and
the log tails a failing test's report shows."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from xdist.scheduler import LoadScopeScheduling

from dynamo_harness.helm import Helm, HelmError, helm_binary
from dynamo_harness.manifests import Manifest

Render = Callable[..., list[Manifest]]

# Property tests: CI replays the same derandomized cases; `explore` draws new ones (nightly, by hand).
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("explore", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def helm() -> Helm:
    binary = helm_binary()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `make bootstrap` (make test does it for you)")
    return Helm(binary)


@pytest.fixture(scope="session")
def render(helm: Helm) -> Render:
    """render(overlay=None, values=None, **template_kwargs) -> manifests, cached per argument set."""
    cache: dict[str, list[Manifest]] = {}

    def _render(overlay: str | None = None, values: dict | None = None, **kwargs) -> list[Manifest]:
        key = json.dumps([overlay, values, kwargs], sort_keys=True)
        if key not in cache:
            cache[key] = helm.template(overlay=overlay, values=values, **kwargs)
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def render_error(helm: Helm) -> Callable[..., str]:
    """render_error(overlay=None, values=None) -> helm's stderr; fails the test if it rendered."""

    def _render_error(overlay: str | None = None, values: dict | None = None) -> str:
        try:
            helm.template(overlay=overlay, values=values)
        except HelmError as err:
            return err.stderr
        pytest.fail(f"rendered without error: overlay={overlay} values={values}")

    return _render_error


LAYERS = ("template", "install", "dataplane", "conformance", "deploy", "images", "up")
TESTS = Path(__file__).parent
# A failing test's report shows the log tails of these fixtures (each has log_tails()): the install
# layer's cluster and the data plane layer's plane (`healed` is the same plane, shown once).
FAILURE_LOGS = {"cluster": "cluster component logs", "plane": "data plane logs", "healed": "data plane logs"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cluster", default="local", choices=["local", "kind", "existing"],
                     help="cluster provider of the install layer (default: local)")
    parser.addoption("--keep-cluster", action="store_true", help="leave a cluster the tests created running")
    parser.addoption("--without-real-node", action="store_true",
                     help="the install layer's local cluster runs kwok-only, in a state dir of its own, and never "
                          "touches the real node: so it runs beside a session that has it (make test)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test gets the marker of its layer directory, so `-m template` selects a layer, and a test
    that uses the real node (fixture `node_cluster`) gets `real_node`."""
    for item in items:
        if (layer := _layer(item.nodeid)) in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))
        if "node_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.real_node)


def _layer(nodeid: str) -> str:
    """tests/<layer>/test_x.py::... -> layer (nodeids are relative to the repo root)."""
    parts = nodeid.split("/", 2)
    return parts[1] if len(parts) == 3 and parts[0] == TESTS.name else ""


class LayerScheduling(LoadScopeScheduling):
    """`make test`'s xdist schedule: each layer whose tests share one session resource (the install
    layer's cluster and real node, the data plane's processes, the images layer's containerd) runs
    whole in one worker; every other test is a unit of its own, sent to whichever worker is free.
    (xdist 3.8's `loadgroup` renames nodeids through `_nodeid`, which pytest 9.2 no longer reads.)"""

    SHARED_RESOURCE_LAYERS = ("install", "dataplane", "images")

    def _split_scope(self, nodeid: str) -> str:
        layer = _layer(nodeid)
        return layer if layer in self.SHARED_RESOURCE_LAYERS else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LoadScopeScheduling | None:
    return LayerScheduling(config, log) if config.getoption("dist") == "loadscope" else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failed test's report carries the log tails of the FAILURE_LOGS fixtures it used."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    shown: list[object] = []
    for name, title in FAILURE_LOGS.items():
        source = getattr(item, "funcargs", {}).get(name)
        if source is not None and not any(source is seen for seen in shown):
            shown.append(source)
            report.sections.append((title, source.log_tails()))
