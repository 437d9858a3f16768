"""A cloud overlay's worker settings (`dynamo-operator.dynamo.workerDefaults`) reach every worker,
prefill and decode component of a rendered DGD, in both API versions, and the user's own settings
win. Pure Python: the overlay files are read as `--platform-values` reads them."""

import copy

import pytest
import yaml

from dynamo_harness.cli import main as harness
from dynamo_harness.deploy import templates, worker_settings
from dynamo_harness.deploy.config import API_VERSIONS, RUNTIMES, parse
from dynamo_harness.deploy.worker_settings import WorkerSettingsError, from_values_files, merge, worker_pod_templates
from dynamo_harness.paths import CHART, OVERLAYS, ROOT

from support.crd_schema import validation_errors

CLOUD_OVERLAYS = ["aks-spot", "eks-efa", "gke"]
EFA = "vpc.amazonaws.com/efa"
DGD_CRD = yaml.safe_load((CHART / "charts/dynamo-operator/files/crds/dynamographdeployments.nvidia.com.yaml").read_text())


def overlay_defaults(overlay):
    """The overlay file's workerDefaults, read directly: what every worker must carry."""
    return yaml.safe_load((OVERLAYS / f"{overlay}.yaml").read_text())["dynamo-operator"]["dynamo"]["workerDefaults"]


def dgd(api_version="v1beta1", topology="disagg-planner", runtime="vllm", **extra):
    return templates.render(parse({"runtime": runtime, "topology": topology, "model": "m", "api_version": api_version, **extra}))


def with_overlay(manifest, overlay):
    return merge(manifest, from_values_files([OVERLAYS / f"{overlay}.yaml"]))


def main_of(pod):
    (main,) = [c for c in pod["containers"] if c["name"] == "main"]
    return main


def assert_carries(pod, defaults, where):
    main = main_of(pod)
    for env in defaults.get("env", []):
        assert env in main.get("env", []), f"{where}: env {env['name']}"
    for kind, items in defaults.get("resources", {}).items():
        for name, quantity in items.items():
            assert main["resources"][kind][name] == str(quantity), f"{where}: resources.{kind}.{name}"
    assert defaults.get("nodeSelector", {}).items() <= pod.get("nodeSelector", {}).items(), where
    for toleration in defaults.get("tolerations", []):
        assert toleration in pod.get("tolerations", []), f"{where}: toleration {toleration['key']}"


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize("topology", ["agg", "disagg-planner"])
@pytest.mark.parametrize("overlay", CLOUD_OVERLAYS)
def test_every_worker_component_carries_the_overlays_worker_settings(overlay, topology, api_version):
    merged = with_overlay(dgd(api_version, topology), overlay)
    workers = worker_pod_templates(merged)
    assert len(workers) == (1 if topology == "agg" else 2)
    for name, pod in workers.items():
        assert_carries(pod, overlay_defaults(overlay), f"{overlay} {api_version} {name}")


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize("overlay", CLOUD_OVERLAYS)
def test_frontend_and_planner_are_left_as_they_were(overlay, api_version):
    before = dgd(api_version)
    after = with_overlay(before, overlay)
    if api_version == "v1alpha1":
        services = [n for n, s in before["spec"]["services"].items() if s["componentType"] in ("frontend", "planner")]
        assert services and all(after["spec"]["services"][n] == before["spec"]["services"][n] for n in services)
    else:
        others = [i for i, c in enumerate(before["spec"]["components"]) if c["type"] in ("frontend", "planner")]
        assert others and all(after["spec"]["components"][i] == before["spec"]["components"][i] for i in others)


def test_the_v1alpha1_shape_puts_each_setting_where_that_version_keeps_it():
    decode = with_overlay(dgd("v1alpha1", "disagg"), "eks-efa")["spec"]["services"]["VllmDecodeWorker"]
    assert {"name": "FI_PROVIDER", "value": "efa"} in decode["envs"]
    assert decode["resources"]["requests"]["custom"] == {EFA: "4"}
    assert decode["resources"]["limits"] == {"gpu": "1", "custom": {EFA: "4"}}
    assert decode["extraPodSpec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    gke = with_overlay(dgd("v1alpha1", "agg"), "gke")["spec"]["services"]["VllmDecodeWorker"]["extraPodSpec"]
    assert gke["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("overlay", CLOUD_OVERLAYS)
def test_merged_dgds_still_validate_against_the_charts_crd(overlay, runtime, api_version):
    merged = with_overlay(dgd(api_version, "disagg-multinode", runtime, model_pvc="models",
                              rdma={"kind": "efa", "devices": 2}), overlay)
    merged["metadata"].pop("namespace")
    assert validation_errors(DGD_CRD, merged) == []


def test_an_overlay_without_worker_settings_changes_nothing():
    for api_version in API_VERSIONS:
        assert with_overlay(dgd(api_version), "kind") == dgd(api_version)


# -- the user's own settings win ---------------------------------------------------------------

def own_v1beta1(manifest, name):
    (component,) = [c for c in manifest["spec"]["components"] if c["name"] == name]
    return component["podTemplate"]["spec"]


def test_user_wins_env_by_name_resources_by_name_selector_by_key_toleration_by_key_v1beta1():
    manifest = dgd("v1beta1", "disagg", rdma={"kind": "efa", "devices": 2})  # the user's own EFA: 2 devices, EFA env
    pod = own_v1beta1(manifest, "VllmDecodeWorker")
    main = main_of(pod)
    main["env"] = [{**e, "value": "UCX"} if e["name"] == "SGLANG_DISAGGREGATION_NIXL_BACKEND" else e
                   for e in main["env"] if e["name"] != "TRTLLM_NIXL_KVCACHE_BACKEND"]
    pod["nodeSelector"] = {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}
    pod["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "yes", "effect": "NoExecute"}]
    manifest["spec"]["env"] = [{"name": "TRTLLM_NIXL_KVCACHE_BACKEND", "value": "UCX"}]  # graph-wide, also the user's
    settings = from_values_files([OVERLAYS / "eks-efa.yaml", OVERLAYS / "gke.yaml"])

    merged = own_v1beta1(merge(manifest, settings), "VllmDecodeWorker")
    main = main_of(merged)
    env = [(e["name"], e.get("value")) for e in main["env"]]
    assert len(env) == len(dict(env)), "an env name appears twice"
    assert dict(env)["SGLANG_DISAGGREGATION_NIXL_BACKEND"] == "UCX"
    assert "TRTLLM_NIXL_KVCACHE_BACKEND" not in dict(env)
    # The user limits EFA to 2: the overlay's 4 goes to neither requests nor limits, which must agree.
    assert main["resources"] == {"limits": {"nvidia.com/gpu": "1", EFA: "2"}}
    assert merged["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}
    assert merged["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "yes", "effect": "NoExecute"}]


def test_user_wins_in_the_v1alpha1_shape_too():
    manifest = dgd("v1alpha1", "disagg", rdma={"kind": "efa", "devices": 2})
    service = manifest["spec"]["services"]["VllmPrefillWorker"]
    service["envs"] = [{**e, "value": "1"} if e["name"] == "FI_EFA_ENABLE_SHM" else e for e in service["envs"]]
    service["extraPodSpec"]["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}]
    merged = merge(manifest, from_values_files([OVERLAYS / "eks-efa.yaml"]))["spec"]["services"]["VllmPrefillWorker"]
    env = [(e["name"], e["value"]) for e in merged["envs"]]
    assert len(env) == len(dict(env)) and dict(env)["FI_EFA_ENABLE_SHM"] == "1"
    assert merged["resources"] == {"limits": {"gpu": "1", "custom": {EFA: "2"}}}
    assert merged["extraPodSpec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}]


def test_the_releases_entries_come_first_then_the_users():
    manifest = dgd("v1beta1", "agg", model_pvc="models")
    pod = own_v1beta1(manifest, "VllmDecodeWorker")
    pod["tolerations"] = [{"key": "team-a/dedicated", "operator": "Exists", "effect": "NoSchedule"}]
    merged = own_v1beta1(with_overlay(manifest, "aks-spot"), "VllmDecodeWorker")
    assert [t["key"] for t in merged["tolerations"]] == [
        "kubernetes.azure.com/scalesetpriority", "nvidia.com/gpu", "team-a/dedicated"]


def test_merge_does_not_change_its_input():
    manifest = dgd("v1beta1", "disagg")
    before = copy.deepcopy(manifest)
    with_overlay(manifest, "eks-efa")
    assert manifest == before


# -- reading values files ----------------------------------------------------------------------

def test_values_files_merge_in_helm_order(tmp_path):
    later = tmp_path / "mine.yaml"
    later.write_text(yaml.safe_dump({"dynamo-operator": {"dynamo": {"workerDefaults": {
        "tolerations": [{"key": "team-a/dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "nodeSelector": {"team-a/pool": "gpu"}}}}}))
    settings = from_values_files([OVERLAYS / "gke.yaml", later])
    assert [t["key"] for t in settings.tolerations] == ["team-a/dedicated"]  # a list replaces, as in Helm
    assert settings.node_selector == {"cloud.google.com/gke-accelerator": "nvidia-l4", "team-a/pool": "gpu"}  # maps merge
    later.write_text(yaml.safe_dump({"dynamo-operator": {"dynamo": {"workerDefaults": {"nodeSelector": {
        "cloud.google.com/gke-accelerator": None}}}}}))
    assert from_values_files([OVERLAYS / "gke.yaml", later]).node_selector == {}  # null deletes


BAD_DEFAULTS = [
    ({"tolerations": [{"key": "nvidia.com/gpu", "operator": "Sometimes"}]}, "workerDefaults.tolerations.0.operator"),
    ({"envs": []}, "workerDefaults: Additional properties are not allowed ('envs' was unexpected)"),
    ({"resources": {"limits": {EFA: "four"}}}, f"workerDefaults.resources.limits.{EFA}"),
    ({"env": [{"value": "efa"}]}, "workerDefaults.env.0: 'name' is a required property"),
]


@pytest.mark.parametrize(("defaults", "message"), BAD_DEFAULTS, ids=[m.split(":")[0] for _, m in BAD_DEFAULTS])
def test_a_bad_values_file_is_refused_naming_the_file_and_key(tmp_path, defaults, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"dynamo-operator": {"dynamo": {"workerDefaults": defaults}}}))
    with pytest.raises(WorkerSettingsError) as caught:
        from_values_files([bad])
    assert str(caught.value).startswith(f"{bad}: dynamo-operator.dynamo.") and message in str(caught.value)


def test_the_configmaps_workload_settings_read_like_the_values_file():
    text = yaml.safe_dump({"hfTokenSecret": "hf-token-secret", "workerDefaults": overlay_defaults("eks-efa")})
    from_map = worker_settings.from_workload_settings(text, "release")
    from_file = from_values_files([OVERLAYS / "eks-efa.yaml"])
    assert (from_map.env, from_map.resources, from_map.tolerations) == (from_file.env, from_file.resources, from_file.tolerations)
    assert not worker_settings.from_workload_settings("hfTokenSecret: x\n", "release")


# -- one EFA list ------------------------------------------------------------------------------

def test_the_templates_efa_env_is_the_eks_overlays():
    decode = dgd("v1beta1", "disagg", rdma={"kind": "efa"})
    env = main_of(own_v1beta1(decode, "VllmDecodeWorker"))["env"]
    assert env == overlay_defaults("eks-efa")["env"]


def test_the_efa_env_list_is_written_once():
    """Only the EKS overlay spells the EFA variables out; code and charts read them from there."""
    sources = [p for top in ("dynamo_harness", "values", "charts", "hack") for p in (ROOT / top).rglob("*")
               if p.is_file() and p.suffix in (".py", ".yaml", ".yml", ".tpl", ".json", ".sh")]
    spelled = [str(p.relative_to(ROOT)) for p in sources if "FI_EFA_ENABLE_SHM_TRANSFER" in p.read_text(errors="ignore")]
    assert spelled == ["values/eks-efa.yaml"]


# -- the render command ------------------------------------------------------------------------

def test_render_merges_the_platform_values_and_says_what_it_merged(capsys):
    assert harness(["render", "--runtime", "sglang", "--topology", "disagg", "--model", "m",
                    "--platform-values", str(OVERLAYS / "aks-spot.yaml")]) == 0
    out, err = capsys.readouterr()
    for name, pod in worker_pod_templates(yaml.safe_load(out)).items():
        assert_carries(pod, overlay_defaults("aks-spot"), name)
    assert "tolerations kubernetes.azure.com/scalesetpriority, nvidia.com/gpu; merged into decode, prefill" in err


def test_render_without_a_platform_source_merges_nothing(capsys):
    assert harness(["render", "--runtime", "vllm", "--topology", "agg", "--model", "m"]) == 0
    out, err = capsys.readouterr()
    assert yaml.safe_load(out) == dgd("v1beta1", "agg") and err == ""


def test_render_refuses_two_platform_sources():
    with pytest.raises(SystemExit, match="give --platform-values or --platform-namespace/--platform-release, not both"):
        harness(["render", "--runtime", "vllm", "--topology", "agg", "--model", "m",
                 "--platform-values", str(OVERLAYS / "gke.yaml"), "--platform-namespace", "dynamo-system"])


def test_render_names_a_missing_values_file():
    with pytest.raises(SystemExit, match="--platform-values no-such.yaml"):
        harness(["render", "--runtime", "vllm", "--topology", "agg", "--model", "m", "--platform-values", "no-such.yaml"])



def test_resource_claims_merge_by_name_in_both_versions():
    settings = worker_settings.WorkerSettings(resources={"claims": [{"name": "gpu-claim"}, {"name": "nic"}]}, source="t")
    for api_version in API_VERSIONS:
        manifest = dgd(api_version, "agg")
        if api_version == "v1alpha1":
            manifest["spec"]["services"]["VllmDecodeWorker"]["resources"]["claims"] = [{"name": "nic", "request": "mine"}]
        else:
            main_of(own_v1beta1(manifest, "VllmDecodeWorker"))["resources"]["claims"] = [{"name": "nic", "request": "mine"}]
        (pod,) = worker_pod_templates(merge(manifest, settings)).values()
        assert main_of(pod)["resources"]["claims"] == [{"name": "gpu-claim"}, {"name": "nic", "request": "mine"}], api_version
