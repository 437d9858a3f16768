"""Typed DGD templates: the three dynamo-actions examples as golden files in both API versions,
the flag rules, the v1beta1 form checked against the chart's CRD, and bad inputs rejected with a
message naming the field. Pure Python: no helm, no cluster."""

import json
from pathlib import Path

import pytest
import yaml

from dynamo_harness.deploy import templates
from dynamo_harness.deploy.config import API_VERSIONS, RUNTIMES, TOPOLOGIES, ConfigError, ignored_inputs, parse
from dynamo_harness.paths import CHART

from support.crd_schema import validation_errors

GOLDEN = Path(__file__).parent / "golden"
# The three examples of the dynamo-actions README, as compact JSON inputs.
SEED_EXAMPLES = {
    "qwen-sglang-agg": {"runtime": "sglang", "topology": "agg", "image": "my-registry/sglang-runtime:latest",
                        "model": "Qwen/Qwen3-0.6B",
                        "replicas": '{"frontend":1,"decode":1,"prefill":1,"planner":1,"prometheus":1}'},
    "qwen-vllm-agg": {"runtime": "vllm", "topology": "agg", "image": "my-registry/vllm-runtime:latest",
                      "model": "Qwen/Qwen3-0.6B"},
    "deepseek-sglang-disagg": {
        "runtime": "sglang", "topology": "disagg", "image": "my-registry/sglang-wideep-runtime:latest",
        "model": "deepseek-ai/DeepSeek-R1",
        "replicas": '{"frontend":1,"decode":1,"prefill":1,"planner":1,"prometheus":1}',
        "sglang_scaling": '{"page_size":16,"tp_size":8,"dp_size":8,"ep_size":8,"decode_gpus":8,"prefill_gpus":8,'
                          '"multinode_decode_node_count":1,"multinode_prefill_node_count":1}',
        "sglang_flags": '{"enable_dp_attention":true,"trust_remote_code":true,"skip_tokenizer_init":true,"mem_fraction_static":"0.82"}',
        "sglang_disagg": '{"disagg_transfer_backend":"nixl","disagg_bootstrap_port":30001}',
    },
}


def sglang(**extra):
    return parse({"runtime": "sglang", "topology": "agg", "model": "m", **extra})


def args_of(dgd, service):
    return dgd["spec"]["services"][service]["extraPodSpec"]["mainContainer"]["args"]


DGD_CRD = yaml.safe_load((CHART / "charts/dynamo-operator/files/crds/dynamographdeployments.nvidia.com.yaml").read_text())


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize("example", SEED_EXAMPLES)
def test_seed_examples_render_their_golden_manifest(example, api_version):
    rendered = yaml.safe_dump(templates.render(parse({**SEED_EXAMPLES[example], "api_version": api_version})), sort_keys=False)
    golden = GOLDEN / api_version / f"{example}.yaml"
    assert rendered == golden.read_text(), f"{api_version}/{golden.name} differs; if intended, regenerate it (docs/deploy.md)"


def test_v1beta1_is_the_default():
    dgd = templates.render(parse({"runtime": "vllm", "topology": "agg", "model": "m"}))
    assert dgd["apiVersion"] == "nvidia.com/v1beta1" and [c["name"] for c in dgd["spec"]["components"]] == [
        "Frontend", "VllmDecodeWorker"]


@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_every_template_validates_against_the_charts_crd(runtime, topology, api_version):
    dgd = templates.render(parse({"runtime": runtime, "topology": topology, "model": "m", "model_pvc": "models",
                                  "api_version": api_version, "rdma": {"kind": "efa", "host_network": True}}))
    dgd["metadata"].pop("namespace")
    assert validation_errors(DGD_CRD, dgd) == []


def test_v1beta1_puts_every_pod_setting_in_the_main_container_of_the_pod_template():
    dgd = templates.render(parse({"runtime": "vllm", "topology": "disagg", "model": "m", "model_pvc": "models",
                                  "rdma": {"kind": "efa", "devices": 2, "host_network": True}}))
    (decode,) = [c for c in dgd["spec"]["components"] if c["name"] == "VllmDecodeWorker"]
    assert decode["type"] == "decode" and decode["replicas"] == 1 and decode["sharedMemorySize"] == "16Gi"
    pod = decode["podTemplate"]["spec"]
    (main,) = pod["containers"]
    assert main["name"] == "main" and main["command"] == ["python3", "-m", "dynamo.vllm"]
    assert main["resources"] == {"limits": {"nvidia.com/gpu": "1", "vpc.amazonaws.com/efa": "2"}}
    assert main["envFrom"] == [{"secretRef": {"name": "hf-token-secret"}}]
    assert {"name": "FI_PROVIDER", "value": "efa"} in main["env"] and {"name": "HF_HOME", "value": "/models"} in main["env"]
    assert main["volumeMounts"] == [{"name": "models", "mountPath": "/models"}]
    assert pod["volumes"] == [{"name": "models", "persistentVolumeClaim": {"claimName": "models"}}]
    assert pod["hostNetwork"] is True and pod["dnsPolicy"] == "ClusterFirstWithHostNet"


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_every_template_has_the_roles_of_its_topology(runtime, topology):
    dgd = templates.render_v1alpha1(parse({"runtime": runtime, "topology": topology, "model": "Qwen/Qwen3-0.6B"}))
    services = dgd["spec"]["services"]
    types = sorted((s["componentType"], s.get("subComponentType", "")) for s in services.values())
    expected = [("frontend", "")]
    expected += [("worker", "decode"), ("worker", "prefill")] if topology.startswith("disagg") else [("worker", "")]
    expected += [("planner", "")] if topology == "disagg-planner" else []
    assert types == sorted(expected)
    assert dgd["spec"]["backendFramework"] == runtime
    workers = [s for s in services.values() if s["componentType"] == "worker"]
    assert all(isinstance(s["replicas"], int) for s in services.values())
    assert all(("multinode" in s) == (topology == "disagg-multinode") for s in workers)
    router = services["Frontend"].get("envs", [])
    assert (router == [{"name": "DYN_ROUTER_MODE", "value": "kv"}]) == topology.endswith("-router")


def test_sglang_flags_appear_only_when_set():
    default = args_of(templates.render_v1alpha1(sglang()), "decode")
    assert "--dp-size" not in default and "--ep-size" not in default and "--mem-fraction-static" not in default
    assert "--enable-dp-attention" not in default
    assert {"--trust-remote-code", "--skip-tokenizer-init"} <= set(default)
    off = args_of(templates.render_v1alpha1(sglang(sglang_flags='{"trust_remote_code":false,"skip_tokenizer_init":false}')), "decode")
    assert "--trust-remote-code" not in off and "--skip-tokenizer-init" not in off
    scaled = args_of(templates.render_v1alpha1(sglang(
        sglang_scaling='{"tp_size":4,"dp_size":2,"ep_size":4,"decode_gpus":4,"prefill_gpus":4}',
        sglang_flags='{"enable_dp_attention":true,"mem_fraction_static":"0.9"}')), "decode")
    pairs = dict(zip(scaled, scaled[1:]))
    assert pairs["--tp-size"] == "4" and pairs["--dp-size"] == "2" and pairs["--ep-size"] == "4"
    assert pairs["--mem-fraction-static"] == "0.9" and "--enable-dp-attention" in scaled


def test_disaggregation_flags_only_in_disaggregated_topologies():
    agg = args_of(templates.render_v1alpha1(sglang()), "decode")
    assert "--disaggregation-mode" not in agg
    disagg = templates.render_v1alpha1(sglang(topology="disagg", sglang_disagg='{"disagg_bootstrap_port":31000}'))
    for role in ("decode", "prefill"):
        pairs = dict(zip(args_of(disagg, role), args_of(disagg, role)[1:]))
        assert pairs["--disaggregation-mode"] == role and pairs["--disaggregation-bootstrap-port"] == "31000"


def test_command_extras_are_split_like_a_shell_and_appended_per_role():
    config = parse({"runtime": "vllm", "topology": "disagg-planner", "model": "m",
                    "command_extras": {"worker": "--enforce-eager --max-model-len 4096", "frontend": "--http-port 8000",
                                       "planner": "--log-level 'debug'"}})
    dgd = templates.render_v1alpha1(config)
    assert args_of(dgd, "VllmDecodeWorker")[-3:] == ["--enforce-eager", "--max-model-len", "4096"]
    assert args_of(dgd, "VllmPrefillWorker")[-3:] == ["--enforce-eager", "--max-model-len", "4096"]
    frontend = dgd["spec"]["services"]["Frontend"]["extraPodSpec"]["mainContainer"]
    assert frontend["command"] == ["python3", "-m", "dynamo.frontend"] and frontend["args"] == ["--http-port", "8000"]
    assert args_of(dgd, "Planner")[-2:] == ["--log-level", "debug"]
    assert json.loads(args_of(dgd, "Planner")[3]) == {"environment": "kubernetes", "backend": "vllm", "mode": "disagg"}


def test_rdma_per_cloud():
    efa = templates.render_v1alpha1(parse({"runtime": "vllm", "topology": "disagg", "model": "m",
                                  "rdma": {"kind": "efa", "devices": 4}}))["spec"]["services"]["VllmDecodeWorker"]
    assert efa["resources"]["limits"]["custom"] == {"vpc.amazonaws.com/efa": "4"}
    assert {"name": "FI_PROVIDER", "value": "efa"} in efa["envs"]
    assert efa["extraPodSpec"]["mainContainer"]["securityContext"] == {"capabilities": {"add": ["IPC_LOCK"]}}
    ib = templates.render_v1alpha1(parse({"runtime": "sglang", "topology": "disagg", "model": "m", "rdma": {
        "kind": "infiniband", "devices": 8, "host_network": True,
        "pod_annotations": {"tke.cloud.tencent.com/networks": "tke-route-eni"}}}))["spec"]["services"]["prefill"]
    assert ib["resources"]["limits"]["custom"] == {"rdma/ib": "8"}
    assert ib["extraPodSpec"]["hostNetwork"] is True and ib["extraPodSpec"]["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert ib["extraPodMetadata"] == {"annotations": {"tke.cloud.tencent.com/networks": "tke-route-eni"}}
    plain = templates.render_v1alpha1(parse({"runtime": "sglang", "topology": "disagg", "model": "m"}))["spec"]["services"]["prefill"]
    assert "custom" not in plain["resources"]["limits"] and "hostNetwork" not in plain["extraPodSpec"]


def test_model_pvc_is_declared_mounted_and_used_as_the_download_cache():
    dgd = templates.render_v1alpha1(parse({"runtime": "trtllm", "topology": "agg", "model": "m", "model_pvc": "models"}))
    assert dgd["spec"]["pvcs"] == [{"name": "models", "create": False}]
    worker = dgd["spec"]["services"]["TRTLLMDecodeWorker"]
    assert worker["volumeMounts"] == [{"name": "models", "mountPoint": "/models"}]
    assert {"name": "HF_HOME", "value": "/models"} in worker["envs"]


def test_integers_are_integers_by_construction():
    config = parse({"runtime": "sglang", "topology": "disagg", "model": "m", "replicas": '{"decode":"2","prefill":3}'})
    dgd = templates.render_v1alpha1(config)
    assert dgd["spec"]["services"]["decode"]["replicas"] == 2 and dgd["spec"]["services"]["prefill"]["replicas"] == 3


BAD_INPUTS = [
    ({"replicas": '{"decode":"two"}'}, "replicas.decode: expected a whole number, got 'two'"),
    ({"replicas": '{"decoder":1}'}, "replicas: unknown key(s) ['decoder']"),
    ({"replicas": '{"decode":1'}, "replicas: not valid JSON"),
    ({"replicas": '{"frontend":0}'}, "replicas.frontend: 0 is out of range"),
    ({"sglang_flags": '{"trust_remote_code":"yes"}'}, "sglang_flags.trust_remote_code: expected true or false"),
    ({"sglang_flags": '{"mem_fraction_static":"most"}'}, "sglang_flags.mem_fraction_static: 'most' must be empty or a number in (0, 1]"),
    ({"sglang_scaling": '{"tp_size":8}'}, "sglang_scaling.tp_size (8) must equal decode_gpus x nodes (1 x 1)"),
    ({"sglang_scaling": '{"tp_size":4,"dp_size":2,"decode_gpus":4,"prefill_gpus":4}'}, "needs sglang_flags.enable_dp_attention=true"),
    ({"sglang_disagg": '{"disagg_bootstrap_port":80}'}, "sglang_disagg.disagg_bootstrap_port: 80 is not a port"),
    ({"command_extras": '{"worker":"--flag \\"unclosed"}'}, "command_extras.worker: cannot split into flags"),
    ({"runtime": "tgi"}, "runtime: 'tgi' is not one of"),
    ({"topology": "pipeline"}, "topology: 'pipeline' is not one of"),
    ({"name": "Qwen_Agg"}, "name: 'Qwen_Agg' must be a lowercase DNS label"),
    ({"model": ""}, "model: required"),
    ({"gpus_per_worker": 0}, "gpus_per_worker: 0 is out of range"),
    ({"rdma": {"kind": "roce"}}, "rdma.kind: 'roce' is not one of"),
    ({"shared_memory": "lots"}, "shared_memory: 'lots' is not a size"),
    ({"speed": "fast"}, "unknown key(s) ['speed']"),
]


@pytest.mark.parametrize(("change", "message"), BAD_INPUTS, ids=[m.split(":")[0] for _, m in BAD_INPUTS])
def test_bad_input_is_rejected_naming_the_field(change, message):
    with pytest.raises(ConfigError) as caught:
        parse({"runtime": "sglang", "topology": "agg", "model": "m", **change})
    assert message in str(caught.value)


def test_inputs_another_runtime_ignores_are_reported_not_fatal():
    config = parse({"runtime": "vllm", "topology": "agg", "model": "m", "sglang_flags": '{"trust_remote_code":false}'})
    assert ignored_inputs(config) == ["sglang_flags applies to runtime sglang only; ignored for vllm"]
