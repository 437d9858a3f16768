"""`helm package` gives one self-contained archive whose release stays far below 1 MB."""

import base64
import gzip
import json
import tarfile

import yaml

from dynamo_harness.helm import EVERYTHING_ON, values_args
from dynamo_harness.paths import CHART, ROOT, chart_metadata


def test_package_is_self_contained(helm, tmp_path):
    helm.run("package", str(CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("dynamo-platform-*.tgz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    for sub in (dependency["name"] for dependency in chart_metadata()["dependencies"]):
        assert f"dynamo-platform/charts/{sub}/Chart.yaml" in names
        assert names.count(f"dynamo-platform/charts/{sub}/Chart.yaml") == 1
    assert not [n for n in names if n.endswith(".tgz")]


def _release_secret_estimate(helm, values: dict) -> int:
    """Helm stores base64(gzip(JSON(release))) with every file of the chart and of each subchart
    whose condition is true (disabled ones are dropped), and the manifest; estimate that."""
    chart = chart_metadata()
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    dropped = []
    for dep in chart["dependencies"]:
        if "condition" in dep:
            key = dep["condition"]
            enabled = values.get(key, _dig(defaults, key.split(".")))
            if not enabled:
                dropped.append(CHART / "charts" / dep["name"])
    files = {str(p.relative_to(CHART)): p.read_text() for p in CHART.rglob("*")
             if p.is_file() and not any(p.is_relative_to(d) for d in dropped)}
    # The release manifest holds the rendered templates; CRDs of crds/ are stored once, as chart files.
    manifest = helm.run("template", "dynamo-platform", str(CHART), *values_args(None, values))
    return len(base64.b64encode(gzip.compress(json.dumps({"files": files, "manifest": manifest}).encode())))


def _dig(tree: dict, path: list[str]):
    for key in path:
        tree = (tree or {}).get(key)
    return tree


def test_release_secret_estimate_is_far_below_helms_1mb_limit(helm):
    size = _release_secret_estimate(helm, {})
    assert size < 256 * 1024, f"estimated release secret {size} bytes"


def test_release_secret_with_every_subchart_on_stays_below_helms_1mb_limit(helm):
    """Grove's and LWS's upstream CRDs are the bulk (their descriptions are dropped at generation)."""
    size = _release_secret_estimate(helm, EVERYTHING_ON)
    assert size < 512 * 1024, f"estimated release secret {size} bytes"


def test_package_documents_itself_with_readme_changelog_license_and_values_reference(helm, tmp_path):
    helm.run("package", str(CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("dynamo-platform-*.tgz")
    with tarfile.open(archive) as tar:
        readme = tar.extractfile("dynamo-platform/README.md").read().decode()
        changelog = tar.extractfile("dynamo-platform/CHANGELOG.md").read().decode()
        license_text = tar.extractfile("dynamo-platform/LICENSE").read().decode()
    assert "| `global.etcd.clientPort` | integer | `2379` |" in readme
    metadata = yaml.safe_load(helm.run("show", "chart", str(archive)))
    assert f"## {metadata['version']}\n" in changelog, f"CHANGELOG.md has no entry for chart version {metadata['version']}"
    # The license Artifact Hub shows is the one the package and the repository carry.
    assert metadata["annotations"]["artifacthub.io/license"] == "Apache-2.0"
    assert "Apache License\n" in license_text and "Version 2.0, January 2004" in license_text
    assert (ROOT / "LICENSE").read_text() == license_text


def test_notes_name_helm_test_and_nothing_outside_the_package(dry_run_install):
    notes = dry_run_install().split("NOTES:", 1)[1]
    assert "helm test dynamo-platform -n dynamo-system" in notes
    # The probes listed are those rendered: the operator's by default, etcd's and NATS's where installed.
    assert "probes (operator /healthz and /readyz)" in notes
    assert "(etcd, NATS JetStream, operator /healthz and /readyz)" in dry_run_install("gke").split("NOTES:", 1)[1]
    assert "docs/" not in notes and "values/" not in notes
