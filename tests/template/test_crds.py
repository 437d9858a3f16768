"""The operator's CRDs: structural, complete, small, and they accept the documented examples."""

import copy

import pytest
import yaml

from dynamo_harness.manifests import by_kind
from dynamo_harness.paths import EXAMPLES

from support.crd_schema import structural_violations, validation_errors

KINDS = {
    "DynamoGraphDeployment", "DynamoComponentDeployment", "DynamoGraphDeploymentRequest", "DynamoModel",
    "DynamoGraphDeploymentScalingAdapter", "DynamoCheckpoint", "DynamoWorkerMetadata",
}
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture(scope="module")
def crds(render):
    return {c["spec"]["names"]["kind"]: c for c in by_kind(render(include_crds=True), "CustomResourceDefinition")}


def test_every_dynamo_kind_has_a_crd(crds):
    assert set(crds) == KINDS


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_crd_schema_is_structural(crds, kind):
    for version in crds[kind]["spec"]["versions"]:
        violations = list(structural_violations(version["schema"]["openAPIV3Schema"]))
        assert not violations, f"{version['name']}: " + "\n".join(violations)


def test_crds_stay_far_below_helms_release_size_limit(crds):
    # Upstream's ~2.9 MB of CRDs broke Helm's 1 MB release Secret; ours embed no full PodSpec.
    assert len(yaml.safe_dump(list(crds.values()))) < 150_000


@pytest.mark.parametrize("version", ["v1alpha1", "v1beta1"])
def test_scaling_adapter_exposes_the_scale_subresource(crds, version):
    (served,) = [v for v in crds["DynamoGraphDeploymentScalingAdapter"]["spec"]["versions"] if v["name"] == version]
    assert served["subresources"]["scale"] == {
        "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.selector",
    }


def test_examples_cover_every_runtime_and_topology():
    assert {p.stem for p in EXAMPLE_FILES} >= {"vllm-agg", "vllm-agg-router", "vllm-disagg", "sglang-disagg-multinode", "trtllm-agg"}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_documented_example_validates(crds, path):
    example = yaml.safe_load(path.read_text())
    assert validation_errors(crds[example["kind"]], example) == []


def dgd():
    return yaml.safe_load((EXAMPLES / "vllm-agg.yaml").read_text())


def set_path(obj, dotted, value):
    keys = dotted.split(".")
    for key in keys[:-1]:
        obj = obj[key]
    obj[keys[-1]] = value


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("spec.services.VllmDecodeWorker.replicas", "two", "'two' is not of type 'integer'"),
        ("spec.services.VllmDecodeWorker.replicas", -1, "less than the minimum of 0"),
        ("spec.services.VllmDecodeWorker.componentType", "gpu-worker", "'gpu-worker' is not one of"),
        ("spec.services.VllmDecodeWorker.multinode", {"nodeCount": 0}, "less than the minimum of 1"),
        ("spec.services.VllmDecodeWorker.envs", [{"value": "x"}], "'name' is a required property"),
        ("spec.services.VllmDecodeWorker.replica", 1, "Additional properties are not allowed ('replica'"),
        ("spec.services.VllmDecodeWorker.extraPodSpec.mainContainer.args", "--model x", "is not of type 'array'"),
        ("spec.backendFramework", "pytorch", "'pytorch' is not one of"),
        ("spec.services", {}, "should be non-empty"),
    ],
)
def test_malformed_dgd_is_rejected_naming_the_field(crds, field, value, expected):
    bad = copy.deepcopy(dgd())
    set_path(bad, field, value)
    errors = validation_errors(crds["DynamoGraphDeployment"], bad)
    assert any(expected in e for e in errors), errors


def test_extra_pod_spec_keeps_unlisted_pod_fields(crds):
    good = dgd()
    good["spec"]["services"]["VllmDecodeWorker"]["extraPodSpec"]["affinity"] = {"podAntiAffinity": {}}
    assert validation_errors(crds["DynamoGraphDeployment"], good) == []


# Upstream at the pinned Dynamo release (dynamo_harness/chartgen/crds UPSTREAM): which version stores, which warns.
# DGD and DCD: 1.5.0/1.6.0 fork copies of the release trees; DGDR: 1.3.0, kept at 1.5.0; the others: 1.3.0.
STORAGE = {"DynamoGraphDeployment": "v1beta1", "DynamoComponentDeployment": "v1beta1",
           "DynamoGraphDeploymentRequest": "v1beta1", "DynamoModel": "v1alpha1",
           "DynamoGraphDeploymentScalingAdapter": "v1alpha1"}
DEPRECATED = {"DynamoGraphDeployment", "DynamoComponentDeployment", "DynamoGraphDeploymentRequest"}


def served(crd, name):
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == name]
    return version


@pytest.mark.parametrize("kind", sorted(STORAGE))
def test_kind_serves_both_versions_and_stores_upstreams(crds, kind):
    versions = crds[kind]["spec"]["versions"]
    assert [v["name"] for v in versions] == ["v1alpha1", "v1beta1"] and all(v["served"] for v in versions)
    assert [v["name"] for v in versions if v["storage"]] == [STORAGE[kind]]
    alpha = served(crds[kind], "v1alpha1")
    if kind in DEPRECATED:
        assert alpha["deprecated"] is True
        assert alpha["deprecationWarning"] == f"nvidia.com/v1alpha1 {kind} is deprecated; use nvidia.com/v1beta1 {kind}"
    else:
        assert "deprecated" not in alpha


def test_v1beta1_components_are_a_list_map_keyed_by_name_with_upstreams_rules(crds):
    spec = served(crds["DynamoGraphDeployment"], "v1beta1")["schema"]["openAPIV3Schema"]["properties"]["spec"]
    components = spec["properties"]["components"]
    assert components["x-kubernetes-list-type"] == "map" and components["x-kubernetes-list-map-keys"] == ["name"]
    item = components["items"]
    assert item["properties"]["name"] | {"description": ""} == {
        "type": "string", "description": "", "minLength": 1, "maxLength": 63, "pattern": "^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$"}
    replicas = item["properties"]["replicas"]
    assert (replicas["minimum"], replicas["default"]) == (0, 1)
    assert components["maxItems"] == 25
    assert {r["message"] for r in components["x-kubernetes-validations"]} == {
        "at most one component may have type epp", "component names must be unique case-insensitively"}
    assert [r["message"] for r in item["x-kubernetes-validations"]] == ["eppConfig may only be set when type is epp"]
    assert item["properties"]["type"]["enum"] == ["frontend", "worker", "prefill", "decode", "planner", "epp", "lpx"]


def test_v1beta1_dgd_spec_rules_are_upstreams_1_6_restart_rules(crds):
    """spec.restart unset on create (a transition rule that also runs on create: optionalOldSelf),
    and LPX graphs restart in Parallel; Restart typed so the rule can read strategy.type."""
    spec = served(crds["DynamoGraphDeployment"], "v1beta1")["schema"]["openAPIV3Schema"]["properties"]["spec"]
    rules = {r["message"]: r for r in spec["x-kubernetes-validations"]}
    create = rules["spec.restart must be unset on create; set spec.restart.id after creation to request a restart"]
    assert (create["rule"], create["optionalOldSelf"]) == ("oldSelf.hasValue() || !has(self.restart)", True)
    assert "self.restart.strategy.type == 'Parallel'" in rules[
        "spec.restart.strategy.type must be Parallel when the graph contains LPX components"]["rule"]
    restart = spec["properties"]["restart"]
    assert restart["required"] == ["id"] and restart["properties"]["id"]["minLength"] == 1
    strategy = restart["properties"]["strategy"]["properties"]["type"]
    assert (strategy["enum"], strategy["default"]) == (["Sequential", "Parallel"], "Sequential")


def test_v1beta1_dgd_in_the_docs_form_validates_and_a_too_long_name_does_not(crds):
    dgd = {"apiVersion": "nvidia.com/v1beta1", "kind": "DynamoGraphDeployment", "metadata": {"name": "d"},
           "spec": {"components": [{"name": "Frontend", "type": "frontend", "replicas": 1,
                                    "podTemplate": {"spec": {"containers": [{"name": "main", "image": "i"}]}}}]}}
    assert validation_errors(crds["DynamoGraphDeployment"], dgd) == []
    dgd["spec"]["components"][0]["name"] = "x" * 64
    assert any("spec.components.0.name" in e and "too long" in e for e in validation_errors(crds["DynamoGraphDeployment"], dgd))
