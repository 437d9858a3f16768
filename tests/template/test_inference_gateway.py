"""Inference Gateway wiring (inference-gateway.enabled): off by default; when on, an InferencePool over
one DGD's pods, its endpoint picker (Deployment, Service, namespaced read-only RBAC) and an HTTPRoute
from the named Gateway, all consistent with each other."""

import pytest

from dynamo_harness.helm import HelmError
from dynamo_harness.manifests import by_kind, named

ON = {"inference-gateway.enabled": True, "inference-gateway.pool.dynamoGraphDeployment": "vllm-agg",
      "inference-gateway.route.gateway.name": "inference-gateway"}
POOL = "dynamo-platform-vllm-agg"
EPP = f"{POOL}-epp"


def gateway_objects(manifests):
    return [m for m in manifests if m["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "inference-gateway"]


def test_inference_gateway_is_off_by_default(render):
    manifests = render()
    assert not by_kind(manifests, "InferencePool", "HTTPRoute")
    assert not gateway_objects(manifests)


def test_pool_selects_the_dgd_frontend_pods_and_names_its_picker(render):
    manifests = render(values=ON)
    pool = named(manifests, "InferencePool", POOL)["spec"]
    assert pool["selector"]["matchLabels"] == {"nvidia.com/dynamo-graph-deployment-name": "vllm-agg",
                                               "nvidia.com/dynamo-component-type": "frontend"}
    assert pool["targetPorts"] == [{"number": 8000}]
    assert pool["endpointPickerRef"]["failureMode"] == "FailClose"
    service = named(manifests, "Service", pool["endpointPickerRef"]["name"])
    assert pool["endpointPickerRef"]["port"]["number"] in {p["port"] for p in service["spec"]["ports"]}


def test_picker_service_reaches_the_picker_pods_and_the_picker_watches_its_pool(render):
    manifests = render(values=ON)
    service = named(manifests, "Service", EPP)["spec"]
    pod = named(manifests, "Deployment", EPP)["spec"]["template"]
    assert service["selector"].items() <= pod["metadata"]["labels"].items()
    container = pod["spec"]["containers"][0]
    assert {p["targetPort"] for p in service["ports"]} <= {p["name"] for p in container["ports"]}
    args = container["args"]
    assert args[args.index("--pool-name") + 1] == POOL
    assert args[args.index("--pool-namespace") + 1] == "dynamo-system"
    assert pod["spec"]["serviceAccountName"] == EPP


def test_route_sends_the_gateways_traffic_to_the_pool(render):
    route = named(render(values=ON), "HTTPRoute", POOL)["spec"]
    assert route["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "inference-gateway"}]
    (rule,) = route["rules"]
    assert rule["backendRefs"] == [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": POOL}]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert rule["timeouts"] == {"request": "300s"}


def test_route_toggle_and_gateway_namespace(render):
    assert not by_kind(render(values={**ON, "inference-gateway.route.enabled": False}), "HTTPRoute")
    route = named(render(values={**ON, "inference-gateway.route.gateway.namespace": "gateways",
                                 "inference-gateway.route.hostnames": ["llm.example.com"]}), "HTTPRoute", POOL)["spec"]
    assert route["parentRefs"][0]["namespace"] == "gateways"
    assert route["hostnames"] == ["llm.example.com"]


def test_everything_goes_to_the_models_namespace(render):
    objects = gateway_objects(render(values={**ON, "inference-gateway.namespace": "team-a"}))
    assert len(objects) == 8
    assert {o["metadata"]["namespace"] for o in objects} == {"team-a"}


def test_picker_rbac_is_a_read_only_role_in_the_pool_namespace(render):
    objects = gateway_objects(render(values=ON))
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    role = next(o for o in objects if o["kind"] == "Role")
    assert {v for rule in role["rules"] for v in rule["verbs"]} == {"get", "list", "watch"}
    assert {r for rule in role["rules"] for r in rule["resources"]} == {
        "inferencepools", "pods", "endpointslices", "dynamoworkermetadatas"}


def test_picker_config_reaches_the_pod_and_rolls_it(render):
    config = "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\nplugins: []\n"
    default, custom = (render(values={**ON, **extra}) for extra in ({}, {"inference-gateway.epp.config": config}))
    assert named(custom, "ConfigMap", EPP)["data"]["epp-config.yaml"] == config
    checksum = lambda m: named(m, "Deployment", EPP)["spec"]["template"]["metadata"]["annotations"]["checksum/config"]  # noqa: E731
    assert checksum(default) != checksum(custom)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"inference-gateway.pool.dynamoGraphDeployment": ""}, "inference-gateway.pool.dynamoGraphDeployment"),
        ({"inference-gateway.route.gateway.name": ""}, "inference-gateway.route.gateway.name"),
        ({"inference-gateway.pool.failureMode": "Open"}, "/inference-gateway/pool/failureMode"),
        ({"inference-gateway.route.pathPrefix": "v1"}, "/inference-gateway/route/pathPrefix"),
        ({"inference-gateway.pool.dynamoGraphDeployment": "Vllm_Agg"}, "/inference-gateway/pool/dynamoGraphDeployment"),
        ({"inference-gateway.epp.flags": {"--v": 4}}, "/inference-gateway/epp/flags"),
    ],
    ids=["no-dgd", "no-gateway", "failure-mode", "path-prefix", "dgd-name", "flag-name"],
)
def test_bad_gateway_values_fail_naming_the_key(helm, values, message):
    with pytest.raises(HelmError) as failed:
        helm.template(values={**ON, **values})
    assert message in failed.value.stderr
