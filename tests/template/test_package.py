"""`helm package` gives one self-contained archive whose release stays far below 1 MB."""

import base64
import gzip
import json
import tarfile

import yaml

from dynamo_harness.paths import CHART, chart_metadata


def test_package_is_self_contained(helm, tmp_path):
    helm.run("package", str(CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("dynamo-platform-*.tgz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    for sub in (dependency["name"] for dependency in chart_metadata()["dependencies"]):
        assert f"dynamo-platform/charts/{sub}/Chart.yaml" in names
        assert names.count(f"dynamo-platform/charts/{sub}/Chart.yaml") == 1
    assert not [n for n in names if n.endswith(".tgz")]


def test_release_secret_estimate_is_far_below_helms_1mb_limit(helm):
    # Helm stores base64(gzip(JSON(release))) with every chart file and the manifest; estimate it.
    files = {str(p.relative_to(CHART)): p.read_text() for p in CHART.rglob("*") if p.is_file()}
    manifest = helm.run("template", "dynamo-platform", str(CHART), "--include-crds")
    size = len(base64.b64encode(gzip.compress(json.dumps({"files": files, "manifest": manifest}).encode())))
    # Grove's upstream CRDs (crds/, ~1.5 MB of YAML, ~165 KB gzipped) are the bulk; the Dynamo CRDs
    # stay small (no embedded PodSpec). Half of Helm's limit leaves room to grow.
    assert size < 512 * 1024, f"estimated release secret {size} bytes"


def test_package_documents_itself_with_readme_changelog_and_values_reference(helm, tmp_path):
    helm.run("package", str(CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("dynamo-platform-*.tgz")
    with tarfile.open(archive) as tar:
        readme = tar.extractfile("dynamo-platform/README.md").read().decode()
        changelog = tar.extractfile("dynamo-platform/CHANGELOG.md").read().decode()
    assert "| `global.etcd.clientPort` | integer | `2379` |" in readme
    version = yaml.safe_load(helm.run("show", "chart", str(archive)))["version"]
    assert f"## {version}\n" in changelog, f"CHANGELOG.md has no entry for chart version {version}"


def test_notes_name_helm_test_and_nothing_outside_the_package(helm):
    out = helm.run("install", "dynamo-platform", str(CHART), "--namespace", "dynamo-system", "--dry-run=client")
    notes = out.split("NOTES:", 1)[1]
    assert "helm test dynamo-platform -n dynamo-system" in notes
    assert "(etcd, NATS JetStream, operator health and metrics)" in notes
    assert "docs/" not in notes and "values/" not in notes
