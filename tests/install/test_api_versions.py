"""The API users apply: v1alpha1 and v1beta1 served side by side by a real API server.

The seed docs' manifests apply (server-side dry run); broken variants are refused naming the
field; the CRDs convert through the operator's webhook Service at /convert with the chart's CA,
proven by the API server's call arriving at a stand-in that holds only the chart's certificate
(conversion_standin.py: on `local` no operator runs); objects stored as v1alpha1 before an
upgrade that flips a kind's storage version stay readable.
"""

import base64
import copy
import json
import subprocess
from pathlib import Path

import pytest
import yaml
SEED = Path(__file__).parent / "data" / "seed"
SEED_FILES = sorted(SEED.glob("*.yaml"))
MULTI_VERSION = ["dynamographdeployments", "dynamocomponentdeployments", "dynamographdeploymentrequests",
                 "dynamomodels", "dynamographdeploymentscalingadapters"]


def seed(name: str) -> dict:
    return yaml.safe_load((SEED / f"{name}.yaml").read_text())


def dry_run(kubectl, namespace, obj) -> subprocess.CompletedProcess:
    """kubectl apply --dry-run=server, keeping stderr (where warnings go) on success too."""
    return subprocess.run([str(kubectl.binary), "--kubeconfig", str(kubectl.kubeconfig), "apply", "--dry-run=server",
                           "-n", namespace, "-o", "json", "-f", "-"], input=yaml.safe_dump(obj),
                          capture_output=True, text=True, timeout=60)


def test_the_seed_docs_teach_the_quickstart_the_v1beta1_dgd_and_the_planner_dgdr():
    assert len(SEED_FILES) >= 6
    assert seed("qwen3-quickstart-dgdr")["spec"] == {"model": "Qwen/Qwen3-0.6B", "backend": "auto",
                                                     "image": "nvcr.io/nvidia/ai-dynamo/dynamo-planner:1.1.1"}
    assert [c["name"] for c in seed("qwen3-direct-dgd")["spec"]["components"]] == ["Frontend", "VllmDecodeWorker"]
    assert seed("llama-70b-sla-planner-dgdr")["spec"]["features"] == {"planner": {"enabled": True}}


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_seed_docs_manifest_is_accepted(kubectl, schema_only_namespace, path):
    result = dry_run(kubectl, schema_only_namespace, yaml.safe_load(path.read_text()))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["metadata"]["name"] == yaml.safe_load(path.read_text())["metadata"]["name"]


def test_v1beta1_component_replicas_default_to_one(kubectl, schema_only_namespace):
    dgd = seed("qwen3-direct-dgd")
    del dgd["spec"]["components"][1]["replicas"]
    result = dry_run(kubectl, schema_only_namespace, dgd)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["spec"]["components"][1]["replicas"] == 1


def test_v1alpha1_dgd_is_served_with_upstreams_deprecation_warning(kubectl, schema_only_namespace):
    dgd = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeployment", "metadata": {"name": "old"},
           "spec": {"services": {"Frontend": {"componentType": "frontend", "replicas": 1}}}}
    result = dry_run(kubectl, schema_only_namespace, dgd)
    assert result.returncode == 0, result.stderr
    assert "nvidia.com/v1alpha1 DynamoGraphDeployment is deprecated; use nvidia.com/v1beta1 DynamoGraphDeployment" in result.stderr


def component(dgd, index, field, value):
    bad = copy.deepcopy(dgd)
    bad["spec"]["components"][index][field] = value
    return bad


BROKEN = {
    "name-too-long": (lambda d: component(d, 1, "name", "w" * 64), "spec.components[1].name: Too long"),
    "name-not-a-label": (lambda d: component(d, 1, "name", "vllm_worker"), "spec.components[1].name: Invalid value"),
    "replicas-negative": (lambda d: component(d, 1, "replicas", -1),
                          "spec.components[1].replicas: Invalid value: -1: spec.components[1].replicas in body should be greater than or equal to 0"),
    "type-unknown": (lambda d: component(d, 1, "type", "gpu-worker"), 'spec.components[1].type: Unsupported value: "gpu-worker"'),
    "duplicate-name": (lambda d: component(d, 1, "name", "Frontend"), 'spec.components[1]: Duplicate value: {"name":"Frontend"}'),
    "names-equal-ignoring-case": (lambda d: component(d, 1, "name", "frontend"), "component names must be unique case-insensitively"),
    "two-epps": (lambda d: component(component(d, 0, "type", "epp"), 1, "type", "epp"), "at most one component may have type epp"),
    "epp-config-on-a-worker": (lambda d: component(d, 1, "eppConfig", {}), "eppConfig may only be set when type is epp"),
    "unknown-field": (lambda d: component(d, 1, "replica", 2), 'unknown field "spec.components[1].replica"'),
    # Dynamo 1.6.0's v1beta1 rules.
    "too-many-components": (lambda d: {**d, "spec": {**d["spec"], "components": [
        {**d["spec"]["components"][1], "name": f"w{i}"} for i in range(26)]}}, "spec.components: Too many: 26"),
    "restart-on-create": (lambda d: {**d, "spec": {**d["spec"], "restart": {"id": "r1"}}},
                          "spec.restart must be unset on create; set spec.restart.id after creation to request a restart"),
}


@pytest.mark.parametrize("broken", BROKEN)
def test_broken_v1beta1_dgd_is_refused_naming_the_field(kubectl, schema_only_namespace, broken):
    change, message = BROKEN[broken]
    result = dry_run(kubectl, schema_only_namespace, change(seed("qwen3-direct-dgd")))
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_a_v1beta1_dgd_with_an_lpx_component_restarts_only_in_parallel(kubectl, schema_only_namespace):
    """spec.restart is for objects that exist (unset on create); once set on a graph with an lpx
    component, its strategy must be Parallel (upstream's 1.6.0 spec rules)."""
    dgd = seed("qwen3-direct-dgd")
    dgd["metadata"]["name"] = "lpx-restart"
    dgd["spec"]["components"][1]["type"] = "lpx"
    kubectl.run("create", "-n", schema_only_namespace, "-f", "-", input=yaml.safe_dump(dgd))
    try:
        def restart(strategy: dict) -> subprocess.CompletedProcess:
            patch = json.dumps({"spec": {"restart": {"id": "r1", "strategy": strategy}}})
            return subprocess.run([str(kubectl.binary), "--kubeconfig", str(kubectl.kubeconfig), "patch", "--type=merge",
                                   "dynamographdeployments.v1beta1.nvidia.com", "lpx-restart", "-n", schema_only_namespace,
                                   "-p", patch, "--dry-run=server"], capture_output=True, text=True, timeout=60)
        refused = restart({"type": "Sequential"})
        assert refused.returncode != 0, refused.stdout
        assert "spec.restart.strategy.type must be Parallel when the graph contains LPX components" in refused.stderr, refused.stderr
        refused = restart({})  # the default is Sequential
        assert refused.returncode != 0 and "must be Parallel" in refused.stderr, refused.stderr
        accepted = restart({"type": "Parallel"})
        assert accepted.returncode == 0, accepted.stderr
    finally:
        kubectl.run("delete", "dynamographdeployments.v1beta1.nvidia.com", "lpx-restart", "-n", schema_only_namespace,
                    "--ignore-not-found")


BROKEN_DGDR = {
    "no-model": ({"model": None}, "spec.model: Required value"),
    "backend-unknown": ({"backend": "tgi"}, 'spec.backend: Unsupported value: "tgi"'),
    "search-strategy-unknown": ({"searchStrategy": "fast"}, 'spec.searchStrategy: Unsupported value: "fast"'),
    "gpu-sku-uppercase": ({"hardware": {"gpuSku": "H100-SXM5-80GB"}}, 'spec.hardware.gpuSku: Unsupported value: "H100-SXM5-80GB"'),
    "e2e-latency-with-ttft": ({"sla": {"ttft": 500, "e2eLatency": 2000}}, "e2eLatency cannot be combined with ttft or itl"),
    "rate-and-concurrency": ({"workload": {"requestRate": 10, "concurrency": 8}}, "concurrency and requestRate are mutually exclusive"),
}


@pytest.mark.parametrize("broken", BROKEN_DGDR)
def test_broken_v1beta1_dgdr_is_refused_naming_the_field(kubectl, schema_only_namespace, broken):
    change, message = BROKEN_DGDR[broken]
    dgdr = seed("llama-70b-sla-planner-dgdr")
    dgdr["spec"].update(change)
    dgdr["spec"] = {k: v for k, v in dgdr["spec"].items() if v is not None}
    if "workload" in change:
        dgdr["spec"]["workload"] = change["workload"]
    result = dry_run(kubectl, schema_only_namespace, dgdr)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_every_multi_version_crd_converts_through_the_operator_webhook_with_the_charts_ca(kubectl, platform):
    secret = kubectl.get("secret", f"{platform.name}-webhook-server-cert", "-n", platform.namespace)
    for plural in MULTI_VERSION:
        conversion = kubectl.get("crd", f"{plural}.nvidia.com")["spec"]["conversion"]
        assert conversion["strategy"] == "Webhook" and conversion["webhook"]["conversionReviewVersions"] == ["v1"]
        client = conversion["webhook"]["clientConfig"]
        assert client["service"] == {"name": f"{platform.name}-dynamo-operator-webhook", "namespace": platform.namespace,
                                     "path": "/convert", "port": 443}
        assert base64.b64decode(client["caBundle"]) == base64.b64decode(secret["data"]["ca.crt"]), plural


def test_api_server_calls_the_webhook_service_at_the_crds_path(cluster, kubectl, schema_only_namespace, conversion_standin):
    if conversion_standin is None:
        pytest.skip(f"{cluster.name} runs the real operator; the stand-in only serves the local cluster")
    dgd = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeployment", "metadata": {"name": "written-v1alpha1"},
           "spec": {"services": {"Frontend": {"componentType": "frontend", "replicas": 1}}}}
    before = len(conversion_standin.calls)
    # Written in v1alpha1, stored in v1beta1 (Dynamo 1.5.0's flip): the API server converts on the
    # write and again to read it back in v1alpha1, over TLS it verifies with the CRD's caBundle.
    kubectl.run("create", "-n", schema_only_namespace, "-f", "-", input=yaml.safe_dump(dgd))
    served = kubectl.get("dynamographdeployments.v1beta1.nvidia.com", "written-v1alpha1", "-n", schema_only_namespace)
    assert served["apiVersion"] == "nvidia.com/v1beta1"
    read = kubectl.get("dynamographdeployments.v1alpha1.nvidia.com", "written-v1alpha1", "-n", schema_only_namespace)
    assert read["spec"] == dgd["spec"]
    calls = conversion_standin.calls[before:]
    for version in ("v1beta1", "v1alpha1"):
        assert {"path": "/convert", "desiredAPIVersion": f"nvidia.com/{version}", "kinds": ["DynamoGraphDeployment"]} in calls


def test_storage_versions_are_upstreams(kubectl, platform):
    storage = {}
    for plural in MULTI_VERSION:
        crd = kubectl.get("crd", f"{plural}.nvidia.com")
        (storage[plural],) = [v["name"] for v in crd["spec"]["versions"] if v["storage"]]
    assert storage == {"dynamographdeployments": "v1beta1", "dynamocomponentdeployments": "v1beta1",
                       "dynamographdeploymentrequests": "v1beta1", "dynamomodels": "v1alpha1",
                       "dynamographdeploymentscalingadapters": "v1alpha1"}


def test_dgdr_stored_as_v1alpha1_before_the_storage_flip_stays_readable(kubectl, platform, schema_only_namespace):
    """The previous chart (tests/data/dynamo-platform-0.1.0.tgz) stored DGDRs as v1alpha1; this one stores v1beta1.

    The platform release owns the cluster's CRDs and its DGDR CRD has already stored v1beta1, so
    the old CRD cannot be put back (its versions must cover status.storedVersions). The test puts
    back the old storage flag instead, writes a v1alpha1 DGDR as the previous release stored it,
    and upgrades the release to this chart.
    """
    name = "dynamographdeploymentrequests.nvidia.com"
    live = kubectl.get("crd", name)
    old = {"apiVersion": live["apiVersion"], "kind": live["kind"], "metadata": {"name": name}, "spec": live["spec"]}
    old["spec"]["versions"] = [{**v, "storage": v["name"] == "v1alpha1"} for v in live["spec"]["versions"]]
    # As Helm's own field manager, so the upgrade below takes the field back as a chart upgrade would.
    kubectl.run("apply", "--server-side", "--force-conflicts", "--field-manager=helm", "-f", "-", input=json.dumps(old))
    dgdr = {"apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeploymentRequest", "metadata": {"name": "stored-before"},
            "spec": {"model": "Qwen/Qwen3-0.6B", "backend": "vllm", "autoApply": True}}
    try:
        kubectl.run("create", "-n", schema_only_namespace, "-f", "-", input=yaml.safe_dump(dgdr))
    finally:
        platform.upgrade()
    crd = kubectl.get("crd", name)
    assert [v["name"] for v in crd["spec"]["versions"] if v["storage"]] == ["v1beta1"], "the upgrade restored the storage version"
    assert "v1alpha1" in crd["status"]["storedVersions"]
    read = kubectl.get("dynamographdeploymentrequests.v1alpha1.nvidia.com", "stored-before", "-n", schema_only_namespace)
    assert read["spec"] == dgdr["spec"]

