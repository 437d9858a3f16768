"""docs/gitops.md: each YAML block is valid for the project that reads it, and each example's chart
values render in GitOps mode, identically twice. Schemas come from those projects' published
modules (hack/tools/gitops-crds): Argo CD's Application CRD, Flux source-controller's
OCIRepository CRD, and helm-controller's api/v2 Go types (no served module holds that CRD's YAML).
"""

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from dynamo_harness.helm import Helm
from dynamo_harness.manifests import load_all
from dynamo_harness.paths import CRD_SCHEMAS, ROOT
from dynamo_harness.publish import chart_version

from support.crd_schema import validation_errors
from support.go_schema import GoTypes

DOC = ROOT / "docs" / "gitops.md"
ARGO_CD = CRD_SCHEMAS / "github.com/argoproj/argo-cd/v3/application-crd.yaml"
OCI_REPOSITORY = CRD_SCHEMAS / "github.com/fluxcd/source-controller/source.toolkit.fluxcd.io_ocirepositories.yaml"
HELM_CONTROLLER = CRD_SCHEMAS / "github.com/fluxcd/helm-controller/api"


def examples() -> dict[str, dict]:
    blocks = re.findall(r"^```yaml\n(.*?)^```", DOC.read_text(), flags=re.M | re.S)
    return {doc["kind"]: doc for doc in map(yaml.safe_load, blocks)}


def schema_file(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make bootstrap` (it copies the GitOps schemas from hack/tools/gitops-crds)")
    return path


def test_the_page_shows_each_gitops_object_once():
    assert sorted(examples()) == ["Application", "HelmRelease", "OCIRepository", "Secret"]


@pytest.mark.parametrize("kind, crd", [("Application", ARGO_CD), ("OCIRepository", OCI_REPOSITORY)])
def test_example_is_valid_against_the_projects_crd(kind, crd):
    definition = yaml.safe_load(schema_file(crd).read_text())
    example = examples()[kind]
    assert (definition["spec"]["group"], definition["spec"]["names"]["kind"]) == (example["apiVersion"].split("/")[0], kind)
    assert validation_errors(definition, example) == []


def test_helmrelease_is_valid_against_the_helm_controller_api_types():
    types = GoTypes(schema_file(HELM_CONTROLLER))
    group_version = re.search(r'GroupVersion\{Group: "([^"]+)", Version: "([^"]+)"\}',
                              (HELM_CONTROLLER / "groupversion_info.go").read_text())
    example = examples()["HelmRelease"]
    assert example["apiVersion"] == "/".join(group_version.groups())
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft202012Validator(types.schema("HelmReleaseSpec")).iter_errors(example["spec"])]
    assert errors == []


def test_helmrelease_schema_catches_a_misspelt_field():
    """The Go-types schema is strict enough to fail: an unknown key and a bad enum are errors."""
    schema = GoTypes(schema_file(HELM_CONTROLLER)).schema("HelmReleaseSpec")
    spec = {**examples()["HelmRelease"]["spec"], "chartReference": {}, "driftDetection": {"mode": "on"}}
    assert len(list(jsonschema.Draft202012Validator(schema).iter_errors(spec))) == 2


def test_argo_cd_repository_secret_declares_an_oci_helm_repository():
    """Argo CD's declarative-setup guide: the secret-type label, type helm and enableOCI "true"."""
    secret = examples()["Secret"]
    assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    assert (secret["stringData"]["type"], secret["stringData"]["enableOCI"]) == ("helm", "true")
    assert secret["stringData"]["url"] == examples()["Application"]["spec"]["source"]["repoURL"]


def chart_values() -> dict[str, dict]:
    found = examples()
    return {"argo-cd": found["Application"]["spec"]["source"]["helm"]["valuesObject"],
            "flux": found["HelmRelease"]["spec"]["values"]}


@pytest.mark.parametrize("tool", ["argo-cd", "flux"])
def test_example_values_render_byte_identical_twice_without_a_secret(helm: Helm, tool):
    values = chart_values()[tool]
    assert values["global"]["gitops"]["enabled"] is True
    first, second = (helm.template_text(values=values) for _ in range(2))
    assert first == second
    assert not [doc for doc in load_all(first) if doc["kind"] == "Secret"]


def test_argo_cd_example_keeps_etcd_auth_off():
    """Its enabling job is a post-install hook, which Argo CD runs on every sync (PostSync)."""
    assert not chart_values()["argo-cd"]["global"].get("etcd", {}).get("auth", {}).get("enabled", False)


def test_flux_verify_matches_the_identity_the_release_workflow_signs_with():
    """cosign keyless binds the signature to the workflow file and the tag that ran it."""
    workflow = ROOT / ".github" / "workflows" / "release.yaml"
    triggers = yaml.safe_load(workflow.read_text())[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["tags"] == ["v*"]
    signer = f"https://github.com/<owner>/dynamo-platform/.github/workflows/{workflow.name}@refs/tags/v{chart_version()}"
    (identity,) = examples()["OCIRepository"]["spec"]["verify"]["matchOIDCIdentity"]
    assert re.search(identity["subject"], signer)
    assert re.search(identity["issuer"], "https://token.actions.githubusercontent.com")
    assert not re.search(identity["subject"], signer.replace("release.yaml", "pr.yaml"))
