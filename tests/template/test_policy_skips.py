"""Every policy-check skip (checkov, run by `make lint`) is written down with a reason that checkov
can read: the chart-wide list in hack/checkov-skips.yaml and the checkov.io/skip annotations."""

import shutil

import pytest

from dynamo_harness import lint
from dynamo_harness.helm import HelmError
from dynamo_harness.paths import CHART


@pytest.fixture(scope="session")
def known_checks() -> set[str]:
    if not lint.CHECKOV.exists():
        pytest.skip(f"{lint.CHECKOV} is missing: `make lint` (or hack/bootstrap.sh --with-lint) installs checkov")
    return lint.known_checks()


@pytest.fixture(scope="session")
def annotation_skips(render) -> dict[str, dict[str, str]]:
    """'Kind/name' -> {check: reason} over every render `make lint` scans."""
    found: dict[str, dict[str, str]] = {}
    for overlay, values in lint.render_values().values():
        found.update(lint.annotation_skips(render(overlay, values)))
    return found


def test_every_chart_wide_skip_names_a_check_and_gives_a_reason():
    skips = lint.load_skips()
    assert skips, "hack/checkov-skips.yaml is empty: drop the file or skip something"
    short = {check: reason for check, reason in skips.items() if len(reason.split()) < 8}
    assert not short, f"give each skip a reason a reviewer can judge: {short}"


def test_a_skip_without_a_reason_is_refused(tmp_path):
    bad = tmp_path / "skips.yaml"
    bad.write_text("CKV_K8S_11: ''\nnot-a-check: because\n")
    with pytest.raises(ValueError, match="CKV_K8S_11.*not-a-check"):
        lint.load_skips(bad)


def test_chart_wide_skips_are_checks_checkov_knows(known_checks):
    assert known_checks >= {"CKV_K8S_8", "CKV2_K8S_6"}, "checkov --list gave no Kubernetes checks"
    assert not set(lint.load_skips()) - known_checks


def test_annotation_skips_name_known_checks_with_a_reason(annotation_skips, known_checks):
    assert annotation_skips, "no checkov.io/skip annotation rendered: the helm test pods carry some"
    unknown = {obj: set(checks) - known_checks for obj, checks in annotation_skips.items() if set(checks) - known_checks}
    assert not unknown
    no_reason = {obj: check for obj, checks in annotation_skips.items() for check, reason in checks.items()
                 if len(reason.split()) < 6}
    assert not no_reason


def test_no_check_is_skipped_both_chart_wide_and_per_object(annotation_skips):
    chart_wide = set(lint.load_skips())
    twice = {obj: set(checks) & chart_wide for obj, checks in annotation_skips.items() if set(checks) & chart_wide}
    assert not twice


def test_the_privileged_snapshot_agent_is_the_only_object_that_skips_privilege_checks(annotation_skips):
    privilege_checks = {"CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_20", "CKV_K8S_23"}
    skipping = {obj for obj, checks in annotation_skips.items() if privilege_checks & set(checks)}
    assert skipping == {"DaemonSet/dynamo-platform-snapshot-agent"}


def test_a_skip_reason_with_an_equals_sign_fails_the_render(helm, tmp_path):
    # checkov splits the annotation at "=": the helper refuses such a reason instead of crashing checkov.
    chart = tmp_path / "chart"
    shutil.copytree(CHART / "charts" / "dynamo-common", chart / "charts" / "dynamo-common")
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: skips\nversion: 0.1.0\n")
    (chart / "templates").mkdir()
    (chart / "templates" / "pod.yaml").write_text(
        'metadata:\n  annotations:\n    {{- include "dynamo-common.checkovSkips" (dict "CKV_K8S_8" "probe=none") | nindent 4 }}\n')
    with pytest.raises(HelmError, match="CKV_K8S_8 holds '='"):
        helm.run("template", "skips", str(chart))


def checkov_result(check: str, resource: str, render: str = "defaults") -> dict:
    return {"check_id": check, "check_name": f"name of {check}", "resource": resource, "file_path": f"/{render}.yaml"}


def test_lint_fails_on_a_finding_not_skipped_and_on_a_skip_nothing_needs():
    report = {"results": {
        "passed_checks": [checkov_result("CKV_K8S_10", "Deployment.dynamo-system.op")],
        "failed_checks": [checkov_result("CKV_K8S_11", "Deployment.dynamo-system.op"),
                          checkov_result("CKV_K8S_9", "Pod.dynamo-system.probe.app.kubernetes.io/name-x", "kind")],
    }}
    skips = {"CKV_K8S_11": "accepted chart-wide", "CKV_K8S_43": "accepts nothing in this report"}
    results = lint.classify(report, skips)
    assert results["defaults"].passed == 1 and results["defaults"].skipped_by_config == {"CKV_K8S_11": 1}
    found = lint.problems(results, skips, {}, known={"CKV_K8S_9", "CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_43"})
    assert found == ["FAIL CKV_K8S_9 Pod/probe: name of CKV_K8S_9 [kind]",
                     "checkov-skips.yaml: CKV_K8S_43 accepts no finding any more; remove it"]
