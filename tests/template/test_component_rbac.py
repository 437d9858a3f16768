"""The planner, DGDR-profiling and EPP roles the operator hands to the pods it runs, as upstream's
chart renders them.

Cluster-wide, the operator binds ClusterRoles named in config.yaml (rbac.*ClusterRoleName) in each
workload namespace; namespace-restricted, the chart renders the ServiceAccount, Role and
RoleBinding itself. tests/template/data/upstream_component_rbac.yaml records upstream's rules and
the commits they were read from.
"""

from pathlib import Path

import pytest
import yaml

from dynamo_harness.manifests import by_kind, named, operator_config

RELEASE = "dynamo-platform"
UPSTREAM = yaml.safe_load((Path(__file__).parent / "data" / "upstream_component_rbac.yaml").read_text())
COMPONENTS = UPSTREAM["components"]
RESTRICTED = {"dynamo-operator.namespaceRestriction.enabled": True,
              "dynamo-operator.namespaceRestriction.targetNamespace": "team-a"}


def rule_sets(rules):
    """Rules as comparable tuples (order of verbs and resources kept: the data file mirrors upstream's)."""
    return [(tuple(r.get("apiGroups", [])), tuple(r.get("resources", [])), tuple(r["verbs"]), tuple(r.get("resourceNames", [])))
            for r in rules]


def covers(rule, grant):
    """`rule` grants every verb of `grant` on all its resources, for any object name."""
    return (set(grant["apiGroups"]) <= set(rule.get("apiGroups", [])) and set(grant["resources"]) <= set(rule.get("resources", []))
            and set(grant["verbs"]) <= set(rule["verbs"]) and not rule.get("resourceNames"))


def manager_rules(manifests):
    (role,) = [r for r in by_kind(manifests, "ClusterRole", "Role") if r["metadata"]["name"].endswith("dynamo-operator-manager")]
    return role["rules"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_cluster_role_the_config_names_is_rendered_with_upstreams_rules(render, component):
    manifests = render()
    name = operator_config(manifests)["rbac"][COMPONENTS[component]["configKey"]]
    assert name == f"dynamo-system-{RELEASE}-dynamo-operator-{component}"
    assert rule_sets(named(manifests, "ClusterRole", name)["rules"]) == rule_sets(COMPONENTS[component]["rules"])


def test_the_operator_may_bind_exactly_the_cluster_roles_the_config_names(render):
    manifests = render()
    rbac = operator_config(manifests)["rbac"]
    assert set(rbac) == {c["configKey"] for c in COMPONENTS.values()}
    bind_rules = [r for r in manager_rules(manifests) if "bind" in r["verbs"]]
    assert bind_rules == [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"],
                           "resourceNames": [rbac[c["configKey"]] for c in COMPONENTS.values()]}]


@pytest.mark.parametrize("restricted", [False, True], ids=["cluster-wide", "namespace-restricted"])
def test_the_operator_holds_upstreams_rbac_grants(render, restricted):
    held = manager_rules(render(values=RESTRICTED if restricted else None))
    for grant in UPSTREAM["manager_rbac_grants"]:
        if restricted and grant["resources"] == ["clusterroles"]:
            continue  # cluster-scoped, so no Role can grant it; restricted, the operator binds no ClusterRole
        assert any(covers(rule, grant) for rule in held), grant


@pytest.mark.parametrize("component", COMPONENTS)
def test_namespace_restricted_renders_upstreams_service_account_role_and_binding(render, component):
    manifests = render(values=RESTRICTED)
    assert "rbac" not in operator_config(manifests)
    names = COMPONENTS[component]["restricted"]
    role = named(manifests, "Role", names["role"])
    assert role["metadata"]["namespace"] == "team-a"
    assert rule_sets(role["rules"]) == rule_sets(COMPONENTS[component]["rules"])
    account = named(manifests, "ServiceAccount", names["serviceAccount"])
    binding = named(manifests, "RoleBinding", names["roleBinding"])
    assert account["metadata"]["namespace"] == binding["metadata"]["namespace"] == "team-a"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": names["role"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": names["serviceAccount"], "namespace": "team-a"}]


def test_restricted_component_accounts_carry_the_pull_secrets(render):
    manifests = render(values={**RESTRICTED, "global.imagePullSecrets": [{"name": "mirror-creds"}]})
    for component in COMPONENTS.values():
        account = named(manifests, "ServiceAccount", component["restricted"]["serviceAccount"])
        assert account["imagePullSecrets"] == [{"name": "mirror-creds"}]


def test_a_metrics_reader_cluster_role_is_rendered_for_scrapers_only_cluster_wide(render):
    reader = named(render(), "ClusterRole", f"dynamo-system-{RELEASE}-dynamo-operator-metrics-reader")
    assert reader["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    # Namespace-restricted, the operator's own roles are Roles; what stays cluster-wide is the
    # storage-migration hook's, which belongs to the release owning the CRDs (test_storage_migration.py).
    restricted = [r["metadata"]["name"] for r in by_kind(render(values=RESTRICTED), "ClusterRole")]
    assert restricted == [f"dynamo-system-{RELEASE}-dynamo-operator-storage-migration"]
