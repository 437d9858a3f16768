"""LeaderWorkerSet (global.lws.install / global.lws.enabled): the bundled controller as upstream
ships it, its CRD copied verbatim from the pinned module, and the operator's permissions to use it."""

import pytest
import yaml

from dynamo_harness.chartgen.foreign_crds import VERBATIM, without_descriptions
from dynamo_harness.helm import HelmError
from dynamo_harness.manifests import by_kind, named
from dynamo_harness.paths import CHART, CRD_SCHEMAS

INSTALL = {"global.lws.install": True}
CONTROLLER = "dynamo-platform-lws-controller"
WEBHOOK_CONFIGS = {"MutatingWebhookConfiguration": "lws-mutating-webhook-configuration",
                   "ValidatingWebhookConfiguration": "lws-validating-webhook-configuration"}


def lws_objects(manifests):
    return [m for m in manifests if m["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "lws"]


def operator_rules(manifests):
    role = named(manifests, "ClusterRole", "dynamo-system-dynamo-platform-dynamo-operator-manager")
    return [r for r in role["rules"] if "leaderworkerset.x-k8s.io" in r["apiGroups"]]


def test_lws_is_off_by_default(render):
    manifests = render(include_crds=True)
    assert not lws_objects(manifests)
    assert not [c for c in by_kind(manifests, "CustomResourceDefinition") if c["spec"]["group"] == "leaderworkerset.x-k8s.io"]
    assert not operator_rules(manifests)


def test_bundled_lws_ships_the_modules_crd_unchanged_but_for_descriptions(render):
    (chart, module, name), = VERBATIM
    vendored = CHART / "charts" / chart / "crds" / name
    upstream = (CRD_SCHEMAS / module / name).read_text()
    assert yaml.safe_load(vendored.read_text()) == yaml.safe_load(without_descriptions(upstream))
    assert "description:" in upstream and "description:" not in vendored.read_text()
    crds = [c for c in by_kind(render(values=INSTALL, include_crds=True), "CustomResourceDefinition")
            if c["spec"]["group"] == "leaderworkerset.x-k8s.io"]
    assert [(c["metadata"]["name"], [v["name"] for v in c["spec"]["versions"]]) for c in crds] == [
        ("leaderworkersets.leaderworkerset.x-k8s.io", ["v1"])]


def test_bundled_lws_controller_serves_the_webhooks_it_certifies(render):
    manifests = render(values=INSTALL)
    deployment = named(manifests, "Deployment", CONTROLLER)["spec"]
    config = yaml.safe_load(named(manifests, "ConfigMap", f"{CONTROLLER}-config")["data"]["controller_manager_config.yaml"])
    certs = config["internalCertManagement"]
    assert certs["enable"] is True
    service = named(manifests, "Service", certs["webhookServiceName"])["spec"]
    assert service["selector"].items() <= deployment["template"]["metadata"]["labels"].items()
    container = deployment["template"]["spec"]["containers"][0]
    assert service["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}
    assert container["args"][0] == "--config=/controller_manager_config.yaml"
    cert_volume = next(v for v in deployment["template"]["spec"]["volumes"] if v["name"] == "cert")
    assert cert_volume["secret"]["secretName"] == certs["webhookSecretName"]
    named(manifests, "Secret", certs["webhookSecretName"])
    # The controller injects its CA into configurations of exactly these names (lws pkg/cert).
    for kind, name in WEBHOOK_CONFIGS.items():
        hooks = named(manifests, kind, name)["webhooks"]
        assert {h["clientConfig"]["service"]["name"] for h in hooks} == {certs["webhookServiceName"]}
        assert {h["clientConfig"]["service"]["namespace"] for h in hooks} == {"dynamo-system"}


def test_gang_scheduling_with_volcano_adds_its_podgroups_and_config(render):
    manifests = render(values={**INSTALL, "lws.gangSchedulerProvider": "volcano"})
    config = yaml.safe_load(named(manifests, "ConfigMap", f"{CONTROLLER}-config")["data"]["controller_manager_config.yaml"])
    assert config["gangSchedulingManagement"] == {"schedulerProvider": "volcano"}
    rules = named(manifests, "ClusterRole", f"dynamo-system-{CONTROLLER}")["rules"]
    assert any("scheduling.volcano.sh" in r["apiGroups"] for r in rules)
    assert not any("scheduling.volcano.sh" in r["apiGroups"] for r in named(render(values=INSTALL), "ClusterRole", f"dynamo-system-{CONTROLLER}")["rules"])


@pytest.mark.parametrize("switch", ["global.lws.install", "global.lws.enabled"])
def test_operator_may_manage_leaderworkersets_when_lws_is_there(render, switch):
    (rule,) = operator_rules(render(values={switch: True}))
    assert rule["resources"] == ["leaderworkersets"]
    assert "*" not in rule["verbs"]


def test_lws_controller_rbac_has_no_wildcards_and_elects_in_its_namespace(render):
    manifests = render(values=INSTALL)
    rules = named(manifests, "ClusterRole", f"dynamo-system-{CONTROLLER}")["rules"]
    assert not [r for r in rules if "*" in r["verbs"] + r["resources"] + r["apiGroups"]]
    assert not any("leases" in r["resources"] for r in rules)
    assert named(manifests, "Role", f"{CONTROLLER}-leader-election")["metadata"]["namespace"] == "dynamo-system"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"global.lws.install": True, "global.lws.enabled": True}, "global.lws.install and global.lws.enabled are both true"),
        ({"global.lws.install": True, "dynamo-operator.namespaceRestriction.enabled": True},
         "cannot be combined with global.lws.install=true"),
        ({"global.lws.install": True, "lws.gangSchedulerProvider": "kai"}, "/lws/gangSchedulerProvider"),
        ({"global.lws.install": True, "lws.replicas": 0}, "/lws/replicas"),
    ],
    ids=["install-and-enabled", "namespace-restricted", "gang-scheduler", "replicas"],
)
def test_bad_lws_values_fail_naming_the_key(helm, values, message):
    with pytest.raises(HelmError) as failed:
        helm.template(values=values)
    assert message in failed.value.stderr
