"""Derived files (CRDs, schemas, values reference, Chart.lock) match their sources."""

import re
import shutil
import subprocess
import sys

import yaml

from dynamo_harness.chartgen import comments
from dynamo_harness.paths import CHART, ROOT


def test_generated_files_are_up_to_date():
    result = subprocess.run([sys.executable, "-m", "dynamo_harness.chartgen", "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_every_values_key_is_documented():
    undocumented = {str(f.relative_to(ROOT)): comments.check_documented(f) for f in CHART.rglob("values.yaml")}
    assert not {f: keys for f, keys in undocumented.items() if keys}


def test_values_reference_lists_every_documented_key():
    reference = (CHART / "README.md").read_text()
    for values_file in CHART.rglob("values.yaml"):
        prefix = "" if values_file.parent == CHART else values_file.parent.name + "."
        for path in comments.descriptions(values_file):
            assert f"| `{prefix}{'.'.join(path)}` |" in reference


def test_dependencies_are_vendored_and_chart_lock_is_current(helm, tmp_path):
    listing = helm.run("dependency", "list", str(CHART))
    statuses = re.findall(r"^(\S+)\s+\S+\s+file://\S+\s+(\S+)\s*$", listing, re.M)
    assert statuses and all(status == "unpacked" for _, status in statuses), listing
    # Re-locking a copy must give the committed digest: Chart.yaml and Chart.lock agree.
    copy = tmp_path / "chart"
    shutil.copytree(CHART, copy)
    helm.run("dependency", "update", "--skip-refresh", str(copy))
    relocked = yaml.safe_load((copy / "Chart.lock").read_text())
    committed = yaml.safe_load((CHART / "Chart.lock").read_text())
    assert relocked["digest"] == committed["digest"]
    assert not list(CHART.glob("charts/*.tgz")), "packaged dependencies next to the vendored ones"
