"""This chart's Dynamo, Grove and KAI Scheduler pins against upstream's compatibility matrix
(tests/template/data/upstream_compatibility_matrix.yaml, from the 1.6.0 platform chart README).

A piece pinned below its row must be in the data file's exception list, which names the version
pinned, the constraint the row sets and why; the list must describe exactly the mismatches there
are, so a stale entry fails as much as an unlisted mismatch does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dynamo_harness.paths import CHART

MATRIX = yaml.safe_load((Path(__file__).parent / "data" / "upstream_compatibility_matrix.yaml").read_text())
# Each matrix column and the subchart whose appVersion pins it.
PIECES = {"kai-scheduler": "kai-scheduler", "grove": "grove"}


def chart_yaml(sub: str = "") -> dict:
    return yaml.safe_load(((CHART / "charts" / sub) if sub else CHART).joinpath("Chart.yaml").read_text())


def version_key(version: str) -> tuple:
    """Order of upstream's tags: v0.1.0-alpha.12-rc1 < v0.1.0-alpha.12 < v0.1.0-alpha.13 < v0.1.0."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-([a-z]+)\.(\d+))?(?:-rc\.?(\d+))?", version)
    assert match, f"not a version upstream writes: {version}"
    major, minor, patch, label, number, rc = match.groups()
    return (int(major), int(minor), int(patch), label is None, label or "", int(number or 0), rc is None, int(rc or 0))


def satisfies(version: str, constraint: str) -> bool:
    op, bound = constraint.split()
    return {">=": version_key(version) >= version_key(bound), "<": version_key(version) < version_key(bound)}[op]


def dynamo_row() -> tuple[str, dict[str, list[str]]]:
    line = ".".join(chart_yaml()["appVersion"].split(".")[:2])
    assert line in MATRIX["rows"], f"upstream's matrix has no {line}.x row"
    return line, MATRIX["rows"][line]


def pinned() -> dict[str, str]:
    return {piece: chart_yaml(sub)["appVersion"] for piece, sub in PIECES.items()}


def mismatches() -> dict[str, tuple[str, str]]:
    """piece -> (version pinned, the row's constraint it fails)."""
    _, row = dynamo_row()
    return {piece: (version, constraint) for piece, version in pinned().items()
            for constraint in row[piece] if not satisfies(version, constraint)}


def test_the_version_order_is_upstreams():
    ordered = ["v0.1.0-alpha.8", "v0.1.0-alpha.12-rc1", "v0.1.0-alpha.12", "v0.1.0-alpha.13", "v0.1.0-alpha.14",
               "v0.1.0", "v0.13.4", "v0.17.0"]
    assert sorted(ordered, key=version_key) == ordered


def test_the_matrix_has_a_row_for_the_dynamo_release_the_chart_runs():
    line, row = dynamo_row()
    assert line == "1.6" and set(row) == set(PIECES)


def test_kubernetes_support_is_upstreams():
    assert chart_yaml()["kubeVersion"] == MATRIX["kubeVersion"]


def test_every_pin_below_the_row_is_a_documented_exception_and_no_exception_is_stale():
    documented = {e["piece"]: (e["pinned"], e["row_needs"]) for e in MATRIX["exceptions"]}
    assert all(e["why"].strip() for e in MATRIX["exceptions"])
    assert len(documented) == len(MATRIX["exceptions"]), "one exception per piece"
    unlisted = {p: m for p, m in mismatches().items() if p not in documented}
    assert not unlisted, f"pins below upstream's {dynamo_row()[0]}.x row without an exception: {unlisted}"
    stale = {p: e for p, e in documented.items() if mismatches().get(p) != e}
    assert not stale, (f"exceptions that no longer describe a mismatch (pinned, row needs): {stale}; "
                       f"actual mismatches: {mismatches()}")


@pytest.mark.parametrize("piece", sorted(PIECES))
def test_the_exceptions_are_the_ones_the_compatibility_page_states(piece):
    """docs/compatibility.md's "What is not at 1.6 yet" names each exception's piece and pin."""
    page = (CHART.parents[1] / "docs" / "compatibility.md").read_text().split("## What is not at 1.6 yet", 1)[1].split("\n## ", 1)[0]
    for exception in (e for e in MATRIX["exceptions"] if e["piece"] == piece):
        assert exception["pinned"] in page and exception["row_needs"].split()[1] in page, exception
