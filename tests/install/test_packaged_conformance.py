"""The packaged dynamo-conformance needs no kubectl: in a clean venv holding only `pip install` of
this repository (the package and the dependencies it declares, from PyPI; no dev requirements),
with no kubectl anywhere on PATH, it probes the cluster through the Kubernetes API: the CRDs, the
session platform release's rollout, the operator's placement, and the deploy stage's server-side
dry run, apply and delete of a DGD. Its exit code and JUnit report say every probe passed or
skipped with a reason (the DGD cannot become Ready where kwok simulates the nodes).

The venv's dependencies are cached under .cache/packaged-venv/<hash of pyproject.toml>; each run
reinstalls the package itself (--no-deps) from a copy of the files pyproject.toml ships, so the
checkout gets no build/ folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dynamo_harness.paths import ROOT

PYPROJECT = ROOT / "pyproject.toml"
VENVS = ROOT / ".cache" / "packaged-venv"


def shipped_files() -> list[Path]:
    """What a wheel of the repository holds: pyproject.toml, the package, and its data-files."""
    data_files = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["data-files"]
    found = [PYPROJECT, *(p for p in (ROOT / "dynamo_harness").rglob("*.py"))]
    return found + [path for patterns in data_files.values() for pattern in patterns for path in sorted(ROOT.glob(pattern))]


def pip(venv: Path, *args: str) -> None:
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             *args], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"pip install {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="session")
def packaged_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("package-source")
    for path in shipped_files():
        target = source / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    venv = VENVS / hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()[:16]
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        # A venv made from a venv's python starts from the base interpreter: none of the test venv's packages.
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        pip(venv, str(source))  # the package and its declared dependencies, from PyPI
        (venv / ".complete").write_text("pip install <repo>\n")
    else:
        pip(venv, "--no-deps", "--force-reinstall", str(source))  # this checkout's code; the dependencies stay
    return venv


def test_packaged_conformance_cli_probes_the_cluster_without_kubectl(packaged_venv, cluster, platform, schema_only_namespace,
                                                                     tmp_path):
    path = str(packaged_venv / "bin")
    assert shutil.which("kubectl", path=path) is None
    env = {"PATH": path, "HOME": str(tmp_path), "LANG": os.environ.get("LANG", "C.UTF-8")}
    reports = tmp_path / "reports"
    run = subprocess.run(
        [str(packaged_venv / "bin" / "dynamo-conformance"), "--kubeconfig", str(cluster.kubectl.kubeconfig),
         "--platform-namespace", platform.namespace, "--platform-release", platform.name,
         "--deploy", "vllm/agg", "--deploy-namespace", schema_only_namespace, "--deploy-timeout", "5",
         "--report-dir", str(reports)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    print(output)  # the probe lines, shown with -rP
    assert run.returncode == 0, output

    cases = {case.get("name"): case for case in ET.parse(reports / "conformance.xml").iter("testcase")}
    failed = {name: case.find("failure").get("message") for name, case in cases.items() if case.find("failure") is not None}
    assert failed == {}, output
    passed = {name for name, case in cases.items() if case.find("skipped") is None}
    assert {"crds/established", "platform/Deployment dynamo-platform-dynamo-operator",
            "deploy/validate", "deploy/apply", "deploy/undeploy"} <= passed, output
    skipped = {name: case.find("skipped").get("message") for name, case in cases.items() if case.find("skipped") is not None}
    if cluster.simulates_operator:  # kwok runs the operator's pod and the DGD's nodes: no container, said so
        assert "simulated" in skipped["operator/metrics"] and "simulated" in skipped["deploy/ready"], skipped
    # The report's header read the cluster through the API too.
    header = (reports / "conformance.md").read_text().split("\n\n")[1]
    assert "- Kubernetes: v1." in header and "- nodes: " in header, header
