"""Policy lint of the rendered chart: checkov's Kubernetes checks (pinned by requirements-checkov.lock).

Every overlay (and the defaults) is rendered twice, as given and with every optional component on,
so no template escapes. A failed check is accepted only when it is skipped with a written reason:
for one object, by a `checkov.io/skip<N>: <check>=<reason>` annotation on it (rendered by the
`dynamo-common.checkovSkips` helper); for the whole chart, in hack/checkov-skips.yaml. Anything else
fails `make lint`, and so does a chart-wide skip that no render needs any more.

Usage: python -m dynamo_harness.lint
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .helm import Helm, everything_on
from .paths import ROOT, overlay_names

CHECKOV = ROOT / ".cache" / "checkov-venv" / "bin" / "checkov"
SKIPS_FILE = ROOT / "hack" / "checkov-skips.yaml"
CHECK_ID = re.compile(r"^CKV2?_K8S_\d+$")
SKIP_ANNOTATION = re.compile(r"^checkov\.io/skip\d+$")
# checkov reads no network here: no guideline download, no version check.
OFFLINE = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}


@dataclass
class Finding:
    render: str
    check: str
    resource: str
    name: str


@dataclass
class RenderResult:
    """checkov's verdicts on one render, failures split by whether a reason accepts them."""

    render: str
    passed: int = 0
    skipped_in_chart: int = 0
    skipped_by_config: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)


def render_values() -> dict[str, tuple[str | None, dict]]:
    """Render name -> (overlay, values): each overlay and the defaults, as given and everything on."""
    renders = {}
    for overlay in (None, *overlay_names()):
        name = overlay or "defaults"
        renders[name] = (overlay, {})
        renders[f"{name}+everything-on"] = (overlay, everything_on(overlay))
    return renders


def load_skips(path: Path = SKIPS_FILE) -> dict[str, str]:
    """Chart-wide skips, check id -> reason; raises ValueError naming each malformed entry."""
    skips = yaml.safe_load(path.read_text())
    if not isinstance(skips, dict):
        raise ValueError(f"{path.name}: expected a mapping of check id to reason")
    bad = [check for check, reason in skips.items()
           if not CHECK_ID.match(str(check)) or not isinstance(reason, str) or not reason.strip()]
    if bad:
        raise ValueError(f"{path.name}: each entry must be <CKV_K8S_n or CKV2_K8S_n>: <reason>; fix {bad}")
    return skips


def annotation_skips(manifests: list[dict]) -> dict[str, dict[str, str]]:
    """'Kind/name' -> {check id: reason} from the checkov.io/skip<N> annotations of each object."""
    found = {}
    for m in manifests:
        annotations = (m.get("metadata") or {}).get("annotations") or {}
        skips = {}
        for key, value in annotations.items():
            if SKIP_ANNOTATION.match(key):
                check, _, reason = str(value).partition("=")
                skips[check] = reason
        if skips:
            found[f"{m['kind']}/{m['metadata']['name']}"] = skips
    return found


def known_checks() -> set[str]:
    """Ids of every Kubernetes check the pinned checkov knows."""
    listing = subprocess.run([str(CHECKOV), "--list", "--framework", "kubernetes"], capture_output=True,
                             text=True, check=True, env={**os.environ, **OFFLINE}).stdout
    return set(re.findall(r"\bCKV2?_K8S_\d+\b", listing))


def run_checkov(directory: Path) -> dict:
    """checkov's JSON report on every file of directory (exit status 1 only means 'some check failed')."""
    result = subprocess.run(
        [str(CHECKOV), "--framework", "kubernetes", "--directory", str(directory), "--output", "json",
         "--compact", "--skip-download"],
        capture_output=True, text=True, env={**os.environ, **OFFLINE}, timeout=600,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {result.returncode}:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout)


def resource_name(resource: str) -> str:
    """checkov's 'Kind.namespace.name[.labels]' as Kind/name."""
    kind, _, rest = resource.partition(".")
    return f"{kind}/{rest.split('.')[1] if '.' in rest else rest}"


def classify(report: dict, skips: dict[str, str]) -> dict[str, RenderResult]:
    """Split checkov's results per render file; a failure of a chart-wide skipped check is accepted."""
    results: dict[str, RenderResult] = {}

    def of(check: dict) -> RenderResult:
        render = Path(check["file_path"]).stem
        return results.setdefault(render, RenderResult(render))

    for check in report["results"].get("passed_checks", []):
        of(check).passed += 1
    for check in report["results"].get("skipped_checks", []):
        of(check).skipped_in_chart += 1
    for check in report["results"].get("failed_checks", []):
        result = of(check)
        if check["check_id"] in skips:
            result.skipped_by_config[check["check_id"]] += 1
        else:
            result.findings.append(Finding(result.render, check["check_id"], resource_name(check["resource"]),
                                           check["check_name"]))
    return results


def problems(results: dict[str, RenderResult], skips: dict[str, str], annotations: dict[str, dict[str, str]],
             known: set[str]) -> list[str]:
    """Everything that fails the lint: findings, stale or unknown skips, annotation skips without a reason."""
    renders_of: dict[tuple[str, str, str], list[str]] = {}
    for r in results.values():
        for f in r.findings:
            renders_of.setdefault((f.check, f.resource, f.name), []).append(f.render)
    found = [f"FAIL {check} {resource}: {name} [{', '.join(sorted(renders))}]"
             for (check, resource, name), renders in sorted(renders_of.items())]
    used = {check for r in results.values() for check in r.skipped_by_config}
    found += [f"{SKIPS_FILE.name}: {check} accepts no finding any more; remove it" for check in sorted(set(skips) - used)]
    found += [f"{SKIPS_FILE.name}: {check} is not a check checkov knows" for check in sorted(set(skips) - known)]
    for obj, checks in sorted(annotations.items()):
        for check, reason in checks.items():
            if check not in known:
                found.append(f"{obj}: annotation skips {check!r}, which checkov does not know")
            if not reason.strip():
                found.append(f"{obj}: annotation skip of {check} gives no reason")
            if check in skips:
                found.append(f"{obj}: {check} is skipped chart-wide already; drop the annotation")
    return found


def lint(out=sys.stdout) -> int:
    helm = Helm()
    skips = load_skips()
    renders = render_values()
    with ThreadPoolExecutor(max_workers=4) as pool:  # helm runs as a subprocess: threads overlap the renders
        rendered = dict(zip(renders, pool.map(lambda r: helm.template(overlay=r[0], values=r[1]), renders.values())))
    annotations = {obj: checks for manifests in rendered.values() for obj, checks in annotation_skips(manifests).items()}
    with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
        for name, manifests in rendered.items():
            (Path(tmp) / f"{name}.yaml").write_text(yaml.safe_dump_all(manifests, sort_keys=False))
        report = run_checkov(Path(tmp))
    results = classify(report, skips)
    print(f"checkov {report['summary']['checkov_version']} --framework kubernetes, chart-wide skips from "
          f"{SKIPS_FILE.relative_to(ROOT)}", file=out)
    print(f"  {'render':38} {'passed':>7} {'skipped':>8} {'accepted':>9} {'findings':>9}", file=out)
    for r in sorted(results.values(), key=lambda r: r.render):
        print(f"  {r.render:38} {r.passed:7} {r.skipped_in_chart:8} {sum(r.skipped_by_config.values()):9} "
              f"{len(r.findings):9}", file=out)
    print("  skipped: by a checkov.io/skip annotation in the chart; accepted: a failure of a check skipped "
          f"chart-wide in {SKIPS_FILE.name}", file=out)
    found = problems(results, skips, annotations, known_checks())
    for line in found:
        print(line, file=out)
    if found:
        print(f"checkov: {len(found)} problem(s): fix each, or skip it with a reason (see the docstring of dynamo_harness/lint.py)", file=out)
        return 1
    print(f"checkov ok: {len(results)} renders", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(lint())
