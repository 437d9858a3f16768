"""Upgrade, rollback, CRD upgrades, uninstall, and a second namespace-restricted install."""

import shutil

import yaml

from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.kube import KubectlError
from dynamo_harness.kube_api import CONFIG_MAP, DEPLOYMENT, PERSISTENT_VOLUME_CLAIM, POD_DISRUPTION_BUDGET, ROLE, SECRET
from dynamo_harness.paths import CHART, EXAMPLES

OPERATOR = "dynamo-platform-dynamo-operator"


def operator_state(release):
    (deployment,) = [d for d in release.objects(DEPLOYMENT) if d["metadata"]["name"] == OPERATOR]
    budgets = [p["metadata"]["name"] for p in release.objects(POD_DISRUPTION_BUDGET)]
    config = [c for c in release.objects(CONFIG_MAP) if c["metadata"]["name"] == "dynamo-platform-nats-config"]
    return deployment["spec"]["replicas"], budgets, config[0]["data"]["nats.conf"]


def test_upgrade_with_changed_values_then_rollback(install):
    release = install(values=ETCD_AND_NATS)
    before = operator_state(release)
    release.upgrade(values={**ETCD_AND_NATS, "dynamo-operator.controllerManager.replicas": 2, "nats.maxPayload": 1048576})
    replicas, budgets, nats_conf = operator_state(release)
    assert (replicas, budgets) == (2, [OPERATOR])
    assert "max_payload: 1048576" in nats_conf
    release.helm.run("rollback", release.name, "1", "--namespace", release.namespace, "--wait", "--timeout", "120s")
    assert operator_state(release) == before
    history = yaml.safe_load(release.helm.run("history", release.name, "-n", release.namespace, "-o", "yaml"))
    assert [h["status"] for h in history] == ["superseded", "superseded", "deployed"]


def test_crd_schema_change_reaches_the_cluster_on_helm_upgrade(tmp_path, cluster_helm, kubectl, platform, schema_only_namespace):
    # The platform release owns the CRDs; upgrade it with a chart whose DGD schema gained a field.
    dgd = yaml.safe_load((EXAMPLES / "vllm-agg.yaml").read_text())
    dgd["spec"]["newField"] = "x"
    apply = ("apply", "--dry-run=server", "-n", schema_only_namespace, "-f", "-")
    try:
        kubectl.run(*apply, input=yaml.safe_dump(dgd))
        raise AssertionError("the unchanged CRD accepted an unknown field")
    except KubectlError as err:
        assert 'unknown field "spec.newField"' in err.stderr

    chart = tmp_path / "dynamo-platform"
    shutil.copytree(CHART, chart)
    crd_file = chart / "charts/dynamo-operator/files/crds/dynamographdeployments.nvidia.com.yaml"
    crd = yaml.safe_load(crd_file.read_text())
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["newField"] = {"type": "string"}
    crd_file.write_text(yaml.safe_dump(crd))
    try:
        platform.upgrade(chart=chart)
        assert "created (server dry run)" in kubectl.run(*apply, input=yaml.safe_dump(dgd))
    finally:
        platform.upgrade()  # back to the repository's CRDs for the other tests


def test_uninstall_leaves_only_the_data_and_a_reinstall_finds_it(install, kubectl):
    data = {**ETCD_AND_NATS, "global.etcd.auth.enabled": True}
    release = install(values=data)
    claims = {c["metadata"]["name"]: c["spec"]["volumeName"] for c in release.objects(PERSISTENT_VOLUME_CLAIM)}
    assert set(claims) == {"data-dynamo-platform-etcd-0", "data-dynamo-platform-nats-0"}
    release.uninstall()
    # Real pods (kind) end after their StatefulSet is gone: the garbage collector and the grace
    # period outlast helm's wait.
    kubectl.wait_for(lambda: not release.pods(), "the uninstalled release's pods to end", timeout=120, interval=2)

    namespaced = [r for r in kubectl.run("api-resources", "--verbs=list", "--namespaced", "-o", "name").split()
                  if r not in {"events", "events.events.k8s.io"}]
    left = {f"{o['kind']}/{o['metadata']['name']}" for o in kubectl.items(
        ",".join(namespaced), "-n", release.namespace, "-l", f"app.kubernetes.io/instance={release.name}")}
    # etcd's generated root password stays with the data it guards, so a reinstall can open it.
    kept = {f"PersistentVolumeClaim/{name}" for name in claims} | {"Secret/dynamo-platform-etcd-auth"}
    assert left == kept, "namespaced objects left behind"
    cluster_scoped = ("clusterroles", "clusterrolebindings", "validatingwebhookconfigurations", "mutatingwebhookconfigurations")
    assert not [o for o in kubectl.items(",".join(cluster_scoped)) if release.namespace in o["metadata"]["name"]]

    def password() -> dict:
        return next(s["data"] for s in release.objects(SECRET) if s["metadata"]["name"] == "dynamo-platform-etcd-auth")

    before = password()
    release.install(values=data)  # over data with auth on: no second root user, no hook left retrying
    assert password() == before
    again = {c["metadata"]["name"]: c["spec"]["volumeName"] for c in release.objects(PERSISTENT_VOLUME_CLAIM)}
    assert again == claims, "the reinstalled StatefulSets did not get their data back"


def test_uninstall_keeps_crds_and_a_namespace_deletes_without_hanging(install, kubectl):
    release = install()
    release.uninstall()
    kubectl.run("delete", "namespace", release.namespace, "--wait=true", "--timeout=60s")
    assert kubectl.items("crds", "-l", "app.kubernetes.io/part-of=dynamo-platform")


def test_namespace_restricted_release_coexists_with_the_cluster_wide_one(install, kubectl, platform):
    restricted = install("namespace-restricted")
    assert not [o for o in kubectl.items("clusterroles,clusterrolebindings") if restricted.namespace in o["metadata"]["name"]]
    roles = {r["metadata"]["name"] for r in restricted.objects(ROLE)}
    assert "dynamo-platform-dynamo-operator-manager" in roles
    cluster_role = f"{platform.namespace}-{OPERATOR}-manager"
    assert kubectl.get("clusterrole", cluster_role)["metadata"]["name"] == cluster_role
    hooks = {w["metadata"]["name"]: w for w in kubectl.items("validatingwebhookconfigurations")}
    mine = hooks[f"{restricted.namespace}-{OPERATOR}-validating"]
    assert all(h["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": restricted.namespace}}
               for h in mine["webhooks"])
    assert f"{platform.namespace}-{OPERATOR}-validating" in hooks
