"""The grove subchart runs Grove's operator as upstream's chart does at the pinned version: the
facts in data/upstream-grove.yaml (each with the upstream commit it was read at) against the
render, so a change on either side fails here until docs/compatibility.md says why."""

from pathlib import Path

import pytest
import yaml

from dynamo_harness.manifests import by_kind, named
from dynamo_harness.helm_release import SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES

RELEASE, NAMESPACE = "dynamo-platform", "dynamo-system"
UPSTREAM = yaml.safe_load((Path(__file__).parent / "data" / "upstream-grove.yaml").read_text())
CHART_YAML = Path(__file__).parents[2] / "charts" / "dynamo-platform" / "charts" / "grove" / "Chart.yaml"
WITH_KAI = {"global.grove.install": True, "global.kai-scheduler.install": True}


@pytest.fixture(scope="module")
def grove(render):
    return render(values=WITH_KAI)


def operator_container(manifests):
    deployment = named(manifests, "Deployment", f"{RELEASE}-grove-operator")
    return deployment["spec"]["template"]["spec"], deployment["spec"]["template"]["spec"]["containers"][0]


def operator_config(manifests):
    return yaml.safe_load(named(manifests, "ConfigMap", f"{RELEASE}-grove-operator-config")["data"]["config.yaml"])


def permissions(rules):
    """(apiGroup, resource, verb) triples: the same grants however the rules are split."""
    return {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def test_the_facts_are_of_the_grove_version_the_subchart_runs():
    assert UPSTREAM["version"] == yaml.safe_load(CHART_YAML.read_text())["appVersion"]


def test_operator_runs_with_upstreams_args_env_and_mounts(grove):
    pod, container = operator_container(grove)
    facts = UPSTREAM["deployment"]
    assert container["args"] == facts["args"]
    env = {e["name"]: ({"fieldRef": e["valueFrom"]["fieldRef"]["fieldPath"]} if "valueFrom" in e else {"value": e["value"]})
           for e in container["env"]}
    assert env == facts["env"]
    volumes = {v["name"]: ("configMap" if "configMap" in v else "secret") for v in pod["volumes"]}
    assert {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]} == facts["mounts"]
    secret_volume = next(v["secret"] for v in pod["volumes"] if "secret" in v)
    assert secret_volume["secretName"] == UPSTREAM["webhook_secret"]["name"]


def test_probes_and_ports_are_the_ones_the_config_file_serves(grove):
    _, container = operator_container(grove)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    probes = UPSTREAM["deployment"]["probes"]
    assert container["livenessProbe"]["httpGet"]["path"] == probes["path_liveness"]
    assert container["readinessProbe"]["httpGet"]["path"] == probes["path_readiness"]
    assert ports[container["livenessProbe"]["httpGet"]["port"]] == probes["port"]
    server = operator_config(grove)["server"]
    assert ports == {"webhooks": server["webhooks"]["port"], "health": server["healthProbes"]["port"],
                     "metrics": server["metrics"]["port"]}


def test_config_file_is_upstreams_operator_configuration(grove):
    expected = yaml.safe_load(yaml.safe_dump(UPSTREAM["config"]).replace("<release namespace>", NAMESPACE))
    assert operator_config(grove) == expected


def test_without_kai_grove_gets_only_the_default_scheduler_profile(render):
    profiles = operator_config(render(values={"global.grove.install": True}))["scheduler"]["profiles"]
    assert profiles == [{"name": "default-scheduler"}]


def test_service_and_secret_carry_the_names_groves_certificate_rotator_uses(grove):
    service = named(grove, "Service", UPSTREAM["service"]["name"])
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == UPSTREAM["service"]["ports"]
    secret = named(grove, "Secret", UPSTREAM["webhook_secret"]["name"])
    assert secret["type"] == UPSTREAM["webhook_secret"]["type"]
    assert not secret.get("data")


def test_webhooks_are_upstreams_and_reach_the_operator_service(grove):
    common = UPSTREAM["webhook_common"]
    groves = [c for c in by_kind(grove, "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
              if c["metadata"]["labels"]["app.kubernetes.io/name"] == "grove"]
    assert [(c["kind"], c["metadata"]["name"]) for c in groves] == [(w["kind"], w["name"]) for w in UPSTREAM["webhooks"]]
    for config, facts in zip(groves, UPSTREAM["webhooks"], strict=True):
        (webhook,) = config["webhooks"]
        assert webhook["name"] == facts["webhook"]
        assert webhook["clientConfig"]["service"] == {"name": UPSTREAM["service"]["name"], "namespace": NAMESPACE,
                                                      "path": facts["path"], "port": common["port"]}
        assert "caBundle" not in webhook["clientConfig"]  # the operator's rotator patches it in
        assert {k: webhook[k] for k in common if k != "port"} == {k: v for k, v in common.items() if k != "port"}


def test_webhooks_take_the_harness_rule_that_skips_labelled_namespaces(render):
    selector = SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES["grove.webhooks.namespaceSelector"]
    manifests = render(values={"global.grove.install": True, **SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES})
    configs = [c for c in by_kind(manifests, "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
               if c["metadata"]["name"].startswith("podcliqueset-")]
    assert [w["namespaceSelector"] for c in configs for w in c["webhooks"]] == [selector, selector]


def test_cluster_role_grants_exactly_upstreams_rules(grove):
    role = named(grove, "ClusterRole", f"{NAMESPACE}-{RELEASE}-grove-operator")
    assert permissions(role["rules"]) == permissions(UPSTREAM["cluster_role_rules"])


def test_leader_election_is_granted_in_the_release_namespace_only(grove):
    role = named(grove, "Role", f"{RELEASE}-grove-operator-leader-election")
    assert role["metadata"]["namespace"] == NAMESPACE
    assert permissions(role["rules"]) == {("coordination.k8s.io", "leases", v)
                                          for v in ("get", "list", "watch", "create", "update", "patch")}
    config = operator_config(grove)["leaderElection"]
    assert (config["resourceLock"], config["resourceNamespace"]) == ("leases", NAMESPACE)
