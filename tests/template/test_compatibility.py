"""docs/compatibility.md states what the files pin: each version in its table is read back from
the file it names, and the Dynamo version is one across chart, images and deploy templates."""

import re

import yaml

from dynamo_harness.chartgen.crds import UPSTREAM
from dynamo_harness.deploy.config import DEFAULT_IMAGES, DYNAMO_VERSION, PLANNER_IMAGE
from dynamo_harness.manifests import by_kind
from dynamo_harness.paths import CHART, ROOT

DOC = ROOT / "docs" / "compatibility.md"


def chart_yaml(sub: str = "") -> dict:
    return yaml.safe_load(((CHART / "charts" / sub) if sub else CHART).joinpath("Chart.yaml").read_text())


def go_requirement(tool: str, module: str) -> str:
    (version,) = re.findall(rf"^\s*(?:require\s+)?{re.escape(module)} (\S+)", (ROOT / "hack/tools" / tool / "go.mod").read_text(), re.M)
    return version


def versions_env(name: str) -> str:
    """A pin of hack/versions.env (NAME=value)."""
    (version,) = re.findall(rf"^{name}=(\S+)$", (ROOT / "hack" / "versions.env").read_text(), re.M)
    return version


def lock_pin(package: str) -> str:
    (version,) = re.findall(rf"^{package}==(\S+)$", (ROOT / "requirements-dynamo.lock").read_text(), re.M)
    return version


def lock_pins(*packages: str) -> str:
    """The one version the lock pins for packages released together; where they differ, each pin
    (which no table row states, so the check below fails)."""
    pins = [lock_pin(package) for package in packages]
    return pins[0] if len(set(pins)) == 1 else ", ".join(f"{p} {v}" for p, v in zip(packages, pins))


def documented_versions() -> dict[str, str]:
    """First table of the page: component -> version."""
    table = DOC.read_text().split("## Versions", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    return {name.strip(): version.strip() for name, version in rows[1:]}


def test_compatibility_table_matches_the_pinned_files():
    actual = {
        "Dynamo (operator image, CRDs, deploy templates' images)": chart_yaml()["appVersion"],
        "Dynamo operator subchart": chart_yaml("dynamo-operator")["appVersion"],
        "Dynamo snapshot subchart": chart_yaml("snapshot")["appVersion"],
        "Dynamo runtime of the data planes (PyPI `ai-dynamo`, `ai-dynamo-runtime`)": lock_pins("ai-dynamo", "ai-dynamo-runtime"),
        "Grove (operator image and CRDs)": chart_yaml("grove")["appVersion"],
        "KAI Scheduler": chart_yaml("kai-scheduler")["appVersion"],
        "Kubernetes (supported)": chart_yaml()["kubeVersion"],
        "Kubernetes (tested: local control plane)": go_requirement("kube", "k8s.io/kubernetes"),
        "Helm 4 (tested: the default helm)": versions_env("HELM_VERSION"),
        "Helm 3 (tested: `make test-template-helm3`)": go_requirement("helm3", "helm.sh/helm/v3"),
    }
    assert documented_versions() == actual


def test_install_docs_name_the_helm_releases_the_tests_run():
    tested = f"tested with Helm {versions_env('HELM_VERSION').lstrip('v')} and {go_requirement('helm3', 'helm.sh/helm/v3').lstrip('v')}"
    for doc in (CHART / "README.md", ROOT / "docs" / "install.md"):
        assert tested in " ".join(doc.read_text().split()), f"{doc.relative_to(ROOT)}: say '{tested}'"


def test_the_page_names_the_chart_version_it_describes():
    assert f"(`charts/dynamo-platform` {chart_yaml()['version']})" in DOC.read_text()


def test_grove_crds_come_from_the_grove_version_the_subchart_runs():
    assert go_requirement("grove-crds", "github.com/ai-dynamo/grove/operator/api") == chart_yaml("grove")["appVersion"]


def test_one_dynamo_version_across_chart_operator_image_and_deploy_templates(render):
    version = chart_yaml()["appVersion"]
    assert chart_yaml("dynamo-operator")["appVersion"] == chart_yaml("snapshot")["appVersion"] == version
    assert DYNAMO_VERSION == version
    assert {image.rsplit(":", 1)[1] for image in [*DEFAULT_IMAGES.values(), PLANNER_IMAGE]} == {version}
    (operator,) = [d for d in by_kind(render(), "Deployment") if d["metadata"]["name"].endswith("dynamo-operator")]
    assert operator["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f"kubernetes-operator:{version}")


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def test_the_crd_facts_follow_the_chart_dynamo_release():
    """The CRD facts come from the release line the chart runs (1.6.x: the 1.6.0 release tree's
    CRDs; no 1.6.1 copy is readable, and a patch release keeps its minor's API)."""
    assert minor(UPSTREAM["dynamo"]) == minor(chart_yaml()["appVersion"])


def test_the_data_plane_runs_the_chart_dynamo_release():
    """PyPI may carry a release as a post-release (1.3.0.post1: packaging only); it is the same
    Dynamo release as the chart's appVersion, and the runtime wheel matches it."""
    version = chart_yaml()["appVersion"]
    assert re.fullmatch(rf"{re.escape(version)}(\.post\d+)?", lock_pin("ai-dynamo")), (
        f"requirements-dynamo.lock pins ai-dynamo {lock_pin('ai-dynamo')}, the chart runs Dynamo {version}")
    assert lock_pin("ai-dynamo-runtime") == lock_pin("ai-dynamo")
