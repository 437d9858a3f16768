"""The API server's own RBAC checks prove the operator can do what upstream's operator does in a
workload namespace: bind the planner, DGDR-profiling and EPP ClusterRoles to their ServiceAccounts (`bind`, since the
operator does not hold every rule of those roles itself), and nothing broader. Also, a scraper
bound to the chart's metrics-reader ClusterRole may `get` /metrics, as the manager's authorization
asks. Requests are made as the operator's ServiceAccount (impersonation, the same authorizer)."""

import uuid

import pytest
import yaml

from dynamo_harness.kube import KubectlError
from dynamo_harness.manifests import operator_config



@pytest.fixture
def workload_namespace(kubectl):
    """A namespace of its own, as the operator meets one where a user deploys a model."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}])
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false")


def operator_identity(platform) -> str:
    return f"system:serviceaccount:{platform.namespace}:{platform.name}-dynamo-operator"


def role_binding(namespace: str, cluster_role: str, account: str) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": f"{account}-{cluster_role}"[:63].rstrip("-"), "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]}


def create_as_operator(kubectl, platform, objects: list[dict]) -> str:
    """Creates the objects with the operator's identity, as it writes them (a create, not a server-side
    apply: 1.6's manager role grants no patch on ServiceAccounts, Roles or RoleBindings)."""
    return kubectl.run("create", f"--as={operator_identity(platform)}", "-f", "-", input=yaml.safe_dump_all(objects))


def bind_as_operator(kubectl, platform, binding: dict) -> str:
    return create_as_operator(kubectl, platform, [binding])


def config_of(kubectl, platform) -> dict:
    (config_map,) = [c for c in kubectl.items("configmaps", "-n", platform.namespace)
                     if c["metadata"]["name"] == f"{platform.name}-dynamo-operator-config"]
    return operator_config([config_map])


@pytest.mark.parametrize("key,account", [("plannerClusterRoleName", "planner-serviceaccount"),
                                         ("dgdrProfilingClusterRoleName", "dgdr-profiling-job"),
                                         ("eppClusterRoleName", "epp-serviceaccount")])
def test_the_operator_binds_each_component_cluster_role_in_a_workload_namespace(kubectl, platform, workload_namespace,
                                                                                key, account):
    cluster_role = config_of(kubectl, platform)["rbac"][key]
    bind_as_operator(kubectl, platform, role_binding(workload_namespace, cluster_role, account))
    created = kubectl.get("rolebinding", "-n", workload_namespace, f"{account}-{cluster_role}"[:63].rstrip("-"))
    assert created["roleRef"]["name"] == cluster_role


@pytest.mark.parametrize("cluster_role", ["cluster-admin", "edit"])
def test_the_operator_cannot_bind_another_cluster_role(kubectl, platform, workload_namespace, cluster_role):
    with pytest.raises(KubectlError) as refused:
        bind_as_operator(kubectl, platform, role_binding(workload_namespace, cluster_role, "planner-serviceaccount"))
    assert "forbidden" in str(refused.value).lower(), refused.value


def test_a_scraper_bound_to_the_metrics_reader_may_get_metrics(kubectl, platform, workload_namespace):
    scraper = f"system:serviceaccount:{workload_namespace}:prometheus"
    reader = f"{platform.namespace}-{platform.name}-dynamo-operator-metrics-reader"

    def can_get_metrics() -> bool:
        try:
            return kubectl.run("auth", "can-i", "get", "/metrics", f"--as={scraper}").strip() == "yes"
        except KubectlError:  # `can-i` answers "no" with exit status 1
            return False

    assert not can_get_metrics()
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": f"{workload_namespace}-prometheus-metrics"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": reader},
               "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": workload_namespace}]}
    kubectl.apply([binding])
    try:
        assert kubectl.wait_for(can_get_metrics, "the scraper may get /metrics", timeout=30)
    finally:
        kubectl.run("delete", "clusterrolebinding", binding["metadata"]["name"], "--wait=false")


def test_where_kwok_simulates_the_operator_its_metrics_probe_skips_saying_so(cluster, kube_api, platform):
    from dynamo_harness.conformance import health
    from dynamo_harness.results import Status

    if not cluster.simulates_operator:
        pytest.skip(f"the operator runs for real on the {cluster.name} cluster: its endpoints are probed instead")
    (result,) = health.operator_simulated(kube_api, platform.namespace)
    assert (result.name, result.status) == ("operator/metrics", Status.SKIP)
    assert "simulated by kwok" in result.reason


def test_namespace_restricted_component_accounts_get_their_rules_in_the_watched_namespace_only(install, kubectl, platform):
    restricted = install("namespace-restricted")

    def can(account: str, *request: str, namespace: str) -> bool:
        try:
            who = f"--as=system:serviceaccount:{restricted.namespace}:{account}"
            return kubectl.run("auth", "can-i", *request, "-n", namespace, who).strip() == "yes"
        except KubectlError:  # "no" exits 1
            return False

    for account, request in (("planner-serviceaccount", ("patch", "pods")),
                             ("dgdr-profiling-job", ("get", "pods/log")),
                             ("epp-serviceaccount", ("watch", "pods"))):
        assert can(account, *request, namespace=restricted.namespace), (account, request)
        assert not can(account, *request, namespace=platform.namespace), (account, request)
    assert not can("epp-serviceaccount", "patch", "pods", namespace=restricted.namespace)


def test_the_operator_can_create_the_kubernetes_discovery_rbac_of_a_dgd(kubectl, platform, workload_namespace):
    """Under Kubernetes discovery the operator gives each DGD a ServiceAccount and a Role to watch
    Endpoints, Pods and EndpointSlices and own DynamoWorkerMetadata; the API server lets it create
    that Role only if it holds every rule itself (no escalation)."""
    from dynamo_harness.dataplane.in_cluster import discovery_rbac

    create_as_operator(kubectl, platform, discovery_rbac(workload_namespace))
    (role,) = kubectl.items("roles", "-n", workload_namespace)
    assert {r for rule in role["rules"] for r in rule["resources"]} >= {"endpoints", "endpointslices", "dynamoworkermetadatas"}
