"""Moving a release of upstream's platform chart to this one, step by step as docs/migration.md
("The move") tells users, on the local cluster's real node.

What stands for upstream's release (neither upstream's chart nor its images can be fetched here):
- the Dynamo CRDs on the API server with no Helm ownership, as upstream's 1.3 hook Job and 1.6
  `crd-apply` init container leave them: the test takes the session's CRDs out of its release for
  its duration and gives them back afterwards (ownership and conversion webhook as they were);
- a Helm release of a chart with upstream's name and version (`dynamo-platform` 1.3.0, ai-dynamo/dynamo
  deploy/helm/charts/platform/Chart.yaml @03a5d4b6) holding one ConfigMap, not upstream's objects:
  what the move does to the release is uninstall it, whatever it holds;
- a DGD stored before the move, and the user's values file: upstream 1.3.0's default values
  (tests/template/data/upstream_values.yaml) with NATS's image pointed at the one built here, as a
  user points it at a mirror. 1.3's file keeps NATS on, so NATS runs for real on the real node.

The operator stays on the kwok pools (no operator image can be built here), so `helm test` leaves
out its probe, and the DGD lives in a namespace its webhooks skip.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from dynamo_harness.helm import HelmError, values_args
from dynamo_harness.kube import Kubectl, pod_placement
from dynamo_harness.paths import CHART, OVERLAYS, ROOT
from dynamo_harness.helm_release import NO_STORAGE_MIGRATION, SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, Release

from support.release_data import wait_statefulsets_ready

UPSTREAM = yaml.safe_load((ROOT / "tests" / "template" / "data" / "upstream_values.yaml").read_text())
RELEASE = "dynamo-platform"
OWNER_LABEL = "app.kubernetes.io/managed-by"
OWNER_ANNOTATIONS = ("meta.helm.sh/release-name", "meta.helm.sh/release-namespace")
UPSTREAM_APPLIER = "upstream-crd-apply"  # stands for whatever applied upstream's CRDs (its hook Job, crd-apply)
OPERATOR_PROBE = f"{RELEASE}-test-operator"  # the operator is simulated: nothing answers its probe
DGD_RESOURCE = "dynamographdeployments"
DGD = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeployment", "metadata": {"name": "made-upstream"},
       "spec": {"services": {"Frontend": {"componentType": "frontend", "replicas": 1}}}}

pytestmark = pytest.mark.usefixtures("node_cluster")


def dynamo_crds(kubectl: Kubectl) -> dict[str, dict]:
    return {crd["metadata"]["name"]: crd for crd in kubectl.items("crds") if crd["spec"]["group"] == "nvidia.com"}


def owner(crd: dict) -> tuple[str | None, ...]:
    metadata = crd["metadata"]
    return (metadata.get("labels", {}).get(OWNER_LABEL),
            *(metadata.get("annotations", {}).get(key) for key in OWNER_ANNOTATIONS))


def converts(crd: dict) -> bool:
    """Served in more than one version, through a conversion webhook."""
    return crd["spec"].get("conversion", {}).get("strategy") == "Webhook"


def patch(kubectl: Kubectl, name: str, body: dict, manager: str) -> None:
    kubectl.run("patch", "crd", name, "--type=merge", f"--field-manager={manager}", "-p", json.dumps(body))


def self_signed_ca(tmp_path: Path) -> str:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=upstream-webhook-ca",
                    "-keyout", str(tmp_path / "ca.key"), "-out", str(tmp_path / "ca.crt")], check=True, capture_output=True)
    return base64.b64encode((tmp_path / "ca.crt").read_bytes()).decode()


@pytest.fixture
def upstream_crds(kubectl: Kubectl, platform: Release, tmp_path: Path):
    """upstream_crds(namespace): the session's Dynamo CRDs as upstream's release in `namespace` leaves
    them: no Helm owner, and the conversion webhook set by upstream's own applier (UPSTREAM_APPLIER),
    with upstream's certificate. Afterwards the session's release gets them back as they were."""
    session = dynamo_crds(kubectl)
    assert {owner(crd) for crd in session.values()} == {("Helm", platform.name, platform.namespace)}
    unowned = {"labels": {OWNER_LABEL: None}, "annotations": dict.fromkeys(OWNER_ANNOTATIONS)}

    def leave_as_upstream(namespace: str) -> tuple[dict[str, dict], str]:
        """-> the CRDs as they were, and upstream's CA bundle."""
        ca_bundle = self_signed_ca(tmp_path)
        webhook = {"clientConfig": {"caBundle": ca_bundle, "service": {"namespace": namespace}}}
        for name, crd in session.items():
            patch(kubectl, name, {"metadata": unowned, **({"spec": {"conversion": {"webhook": webhook}}}
                                                            if converts(crd) else {})}, UPSTREAM_APPLIER)
        return session, ca_bundle

    yield leave_as_upstream
    for name, crd in session.items():
        label, release, namespace = owner(crd)
        back = {"labels": {OWNER_LABEL: label}, "annotations": dict(zip(OWNER_ANNOTATIONS, (release, namespace)))}
        # As "helm", the field manager of the session's release, so that its later upgrades own them again.
        patch(kubectl, name, {"metadata": back, **({"spec": {"conversion": crd["spec"]["conversion"]}}
                                                   if converts(crd) else {})}, "helm")


def upstream_chart(tmp_path: Path) -> Path:
    chart = tmp_path / "upstream-platform"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": "dynamo-platform", "version": "1.3.0"}))
    (chart / "templates" / "stand-in.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-upstream-stand-in\n"
        "data:\n  stands-for: upstream's platform chart 1.3.0\n")
    return chart


def users_values_file(tmp_path: Path) -> Path:
    """Upstream 1.3.0's default values, NATS's image pointed at the one built here."""
    values = json.loads(json.dumps(UPSTREAM["defaults"]["1.3.0"]))
    local_nats = yaml.safe_load((OVERLAYS / "local" / "real-node.yaml").read_text())["nats"]["image"]
    values["nats"]["container"]["image"] = {"registry": local_nats["registry"], "repository": local_nats["repository"],
                                            "tag": local_nats["tag"], "pullPolicy": local_nats["pullPolicy"]}
    path = tmp_path / "my-upstream-values.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


def release_chart(release: Release) -> str:
    (listed,) = json.loads(release.helm.run("list", "--namespace", release.namespace, "--filter", f"^{release.name}$",
                                            "-o", "json"))
    return listed["chart"]


@pytest.mark.parametrize("takeover", ["take-ownership", "labelled-first"])
def test_a_release_of_upstreams_chart_moves_here_keeping_crds_and_dgds__operator_on_kwok(
        cluster, kubectl, conversion_standin, upstream_crds, schema_only_namespace, tmp_path, takeover):
    namespace = f"migrate-{takeover}"
    kubectl.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}])
    base = {**SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, **NO_STORAGE_MIGRATION, **cluster.install_values()}
    release = Release(kubectl, RELEASE, namespace, base)
    # Written in v1alpha1 as a user of upstream's docs writes it; stored as v1beta1 (the conversion
    # stand-in serves the session release's webhook) and read back in the stored version: after the
    # take-over the CRDs' webhook is the new release's, which nothing serves here.
    kubectl.run("create", "-n", schema_only_namespace, "-f", "-", input=yaml.safe_dump(DGD))
    stored = kubectl.get(f"{DGD_RESOURCE}.v1beta1.nvidia.com", DGD["metadata"]["name"], "-n", schema_only_namespace)
    try:
        left_by_upstream, upstream_ca = upstream_crds(namespace)
        release.helm.run("install", RELEASE, str(upstream_chart(tmp_path)), "--namespace", namespace, "--wait")
        assert release_chart(release) == "dynamo-platform-1.3.0"
        ours = ["--values", str(users_values_file(tmp_path)), *values_args("local/real-node", base)]

        # 1. The values file renders as it is.
        release.helm.run("template", RELEASE, str(CHART), "--namespace", namespace, *ours)
        # 3. Upstream's release goes; the CRDs (outside it) and the DGD stay.
        release.uninstall()
        assert set(dynamo_crds(kubectl)) == set(left_by_upstream)

        def install(*extra: str) -> str:
            return release.helm.run("install", RELEASE, str(CHART), "--namespace", namespace, *ours, *extra,
                                    "--wait", "--timeout", "180s", timeout=240)

        if takeover == "take-ownership":
            # Without step 2 Helm refuses to adopt a CRD that belongs to no release, naming it.
            with pytest.raises(HelmError) as refused:
                install()
            assert "CustomResourceDefinition" in str(refused.value) and "meta.helm.sh/release-name" in str(refused.value)
            adopt = ["--take-ownership"]
        else:  # 2. as docs/migration.md's loop does it
            for name in left_by_upstream:
                kubectl.run("label", "crd", name, f"{OWNER_LABEL}=Helm", "--overwrite")
                kubectl.run("annotate", "crd", name, f"meta.helm.sh/release-name={RELEASE}",
                            f"meta.helm.sh/release-namespace={namespace}", "--overwrite")
            adopt = []
        # Helm 4 applies server-side: the conversion webhook upstream's applier set is its field, so
        # the install stops at the conflict, naming it, until told to take the field over.
        with pytest.raises(HelmError) as conflict:
            install(*adopt)
        assert UPSTREAM_APPLIER in str(conflict.value) and ".spec.conversion.webhook.clientConfig.caBundle" in str(conflict.value)
        release.uninstall()  # the failed release; the CRDs stay (resource-policy keep)
        # 4. Install this chart with the same file.
        install(*adopt, "--force-conflicts")

        assert release_chart(release) == f"dynamo-platform-{yaml.safe_load((CHART / 'Chart.yaml').read_text())['version']}"
        adopted = dynamo_crds(kubectl)
        assert set(adopted) == set(left_by_upstream)
        for name, crd in adopted.items():
            assert owner(crd) == ("Helm", RELEASE, namespace), (name, owner(crd))
            assert crd["metadata"]["uid"] == left_by_upstream[name]["metadata"]["uid"], f"{name} was replaced"
            if converts(crd):  # this release's webhook and CA now, not upstream's
                assert crd["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["namespace"] == namespace
                assert crd["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"] != upstream_ca, name
        kept = kubectl.get(f"{DGD_RESOURCE}.v1beta1.nvidia.com", DGD["metadata"]["name"], "-n", schema_only_namespace)
        assert (kept["metadata"]["uid"], kept["metadata"]["resourceVersion"], kept["spec"]) == (
            stored["metadata"]["uid"], stored["metadata"]["resourceVersion"], stored["spec"])

        # 1.3's file keeps NATS on: it runs on the real node, and `helm test` (5.) passes with it.
        wait_statefulsets_ready(kubectl, namespace)
        assert [s["metadata"]["name"] for s in kubectl.items("statefulsets", "-n", namespace)] == [f"{RELEASE}-nats"]
        nodes = kubectl.items("nodes")
        assert pod_placement(kubectl.items("pods", "-n", namespace, "-l", "app.kubernetes.io/name=nats"), nodes) == \
            "running on local-node"
        out = release.test(timeout=120, leave_out=[OPERATOR_PROBE])
        assert "nats ok" in out and "Phase:          Failed" not in out, out
    finally:
        kubectl.run("delete", "-n", schema_only_namespace, f"{DGD_RESOURCE}.v1beta1.nvidia.com",
                    DGD["metadata"]["name"], "--ignore-not-found")
        release.recover_interrupted()
        try:
            release.uninstall(wait=False)
        except HelmError:
            pass  # the test failed before it installed
        kubectl.run("delete", "namespace", namespace, "--wait=false", "--ignore-not-found")
