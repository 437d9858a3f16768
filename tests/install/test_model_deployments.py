"""Every DGD template validates against the installed CRDs on a real API server, and the
harness's deploy, render and undeploy commands and the conformance deploy stage work there."""

import itertools
import json

import pytest
import yaml

from dynamo_harness.cli import main as harness
from dynamo_harness.conformance import deployment, health
from dynamo_harness.results import Status
from dynamo_harness.deploy import on_cluster
from dynamo_harness.deploy import templates
from dynamo_harness.deploy.config import API_VERSIONS, RUNTIMES, TOPOLOGIES, parse
from dynamo_harness.helm_release import SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES

VARIANTS = {
    "default": {},
    "efa-model-pvc": {"rdma": {"kind": "efa", "devices": 4}, "model_pvc": "models"},
    "infiniband-host-network": {"rdma": {"kind": "infiniband", "devices": 8, "host_network": True,
                                         "pod_annotations": {"tke.cloud.tencent.com/networks": "tke-route-eni"}},
                                "command_extras": {"worker": "--enforce-eager"}, "router_mode": "least-loaded"},
}


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_every_runtime_topology_and_variant_validates_against_the_crds(kubectl, schema_only_namespace, api_version):
    manifests = []
    for runtime, topology, variant in itertools.product(RUNTIMES, TOPOLOGIES, VARIANTS):
        config = parse({"runtime": runtime, "topology": topology, "model": "Qwen/Qwen3-0.6B",
                        "name": f"{runtime}-{topology}-{variant}"[:45].rstrip("-"), "namespace": schema_only_namespace,
                        "api_version": api_version, **VARIANTS[variant]})
        manifests.append(templates.render(config))
    out = kubectl.run("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(manifests))
    assert out.count("created (server dry run)") == len(RUNTIMES) * len(TOPOLOGIES) * len(VARIANTS) == 54


def test_crd_rejects_what_the_typed_config_would_never_produce(kubectl, schema_only_namespace):
    dgd = templates.render(parse({"runtime": "vllm", "topology": "agg", "model": "m", "namespace": schema_only_namespace}))
    dgd["spec"]["components"][1]["replicas"] = "2"  # what envsubst produced before coercion
    with pytest.raises(Exception, match="replicas"):
        kubectl.run("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump(dgd))


def cli(*args, kubeconfig):
    return harness([*args, "--kubeconfig", str(kubeconfig)])


def test_deploy_and_undeploy_commands_apply_and_remove_the_dgd(kubectl, schema_only_namespace, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_test_token_value")
    common = ["--runtime", "sglang", "--topology", "disagg", "--model", "Qwen/Qwen3-0.6B",
              "--namespace", schema_only_namespace, "--sglang-disagg", '{"disagg_bootstrap_port":31000}']
    assert cli("deploy", *common, "--no-wait", kubeconfig=kubectl.kubeconfig) == 0
    out = capsys.readouterr().out
    assert "validated" in out and "applied" in out and "hf_test_token_value" not in out
    dgd = kubectl.get("dynamographdeployment", "sglang-disagg", "-n", schema_only_namespace)
    assert dgd["apiVersion"] == "nvidia.com/v1beta1"
    assert {c["name"]: c["type"] for c in dgd["spec"]["components"]} == {"Frontend": "frontend", "decode": "decode", "prefill": "prefill"}
    secret = kubectl.get("secret", "hf-token-secret", "-n", schema_only_namespace)
    assert set(secret["data"]) == {"HF_TOKEN"}
    assert cli("undeploy", "--name", "sglang-disagg", "--namespace", schema_only_namespace, kubeconfig=kubectl.kubeconfig) == 0
    assert "deleted" in capsys.readouterr().out
    assert not kubectl.items("dynamographdeployments", "-n", schema_only_namespace)


def test_deploy_refuses_bad_input_before_touching_the_cluster(kubectl, schema_only_namespace):
    with pytest.raises(SystemExit, match="replicas.decode: expected a whole number, got 'two'"):
        cli("deploy", "--runtime", "vllm", "--topology", "agg", "--model", "m", "--namespace", schema_only_namespace,
            "--replicas", '{"decode":"two"}', kubeconfig=kubectl.kubeconfig)
    assert not kubectl.items("dynamographdeployments", "-n", schema_only_namespace)


def test_render_command_writes_the_manifest_for_gitops(tmp_path):
    out = tmp_path / "dgd.yaml"
    assert harness(["render", "--runtime", "trtllm", "--topology", "agg-router", "--model", "m", "-o", str(out)]) == 0
    frontend = yaml.safe_load(out.read_text())["spec"]["components"][0]
    assert frontend["podTemplate"]["spec"]["containers"][0]["env"] == [{"name": "DYN_ROUTER_MODE", "value": "kv"}]


def test_conformance_deploy_stage_applies_for_real_and_skips_probes_on_simulated_nodes(
        install, kubectl, kube_api, schema_only_namespace):
    """Where every node is simulated (local) or the operator is (kind): no operator process makes
    the DGD Ready, and the stage says so rather than waiting it out."""
    release = install(values=SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, wait=False)
    kubectl.wait_for(lambda: health.operator_is_simulated(kube_api, release.namespace), "the operator pod on a kwok node", 60)
    config = parse({"runtime": "vllm", "topology": "agg", "model": "Qwen/Qwen3-0.6B", "namespace": schema_only_namespace})
    results = {r.name: r for r in deployment.run(kube_api, config, timeout=5)}
    assert [results[n].status for n in ("deploy/validate", "deploy/apply", "deploy/undeploy")] == [Status.PASS] * 3
    assert results["deploy/ready"].status is Status.SKIP and "simulated (kwok)" in results["deploy/ready"].reason
    assert not kubectl.items("dynamographdeployments", "-n", schema_only_namespace)


def test_wait_ready_follows_the_ready_condition_the_operator_writes(kubectl, kube_api, schema_only_namespace):
    """No operator runs locally, so the test writes the status an operator would, through the status subresource."""
    config = parse({"runtime": "vllm", "topology": "agg", "model": "m", "namespace": schema_only_namespace})
    kubectl.apply([templates.render(config)])

    def set_status(ready: str, message: str):
        condition = {"type": "Ready", "status": ready, "reason": "Test", "message": message,
                     "lastTransitionTime": "2026-11-22T00:00:00Z"}
        kubectl.run("patch", "dynamographdeployment", config.dgd_name, "-n", schema_only_namespace, "--subresource=status",
                    "--type=merge", "-p", json.dumps({"status": {"state": "pending", "conditions": [condition]}}))

    seen = []
    set_status("False", "1/2 components ready")
    assert not on_cluster.wait_ready(kube_api, schema_only_namespace, config.dgd_name, timeout=0, progress=seen.append)
    assert seen == [f"{schema_only_namespace}/vllm-agg: state=pending Ready=False (1/2 components ready)"]
    set_status("True", "all components ready")
    assert on_cluster.wait_ready(kube_api, schema_only_namespace, config.dgd_name, timeout=0, progress=seen.append)


def test_deploy_fails_when_the_dgd_never_becomes_ready(kubectl, schema_only_namespace, capsys):
    code = cli("deploy", "--runtime", "trtllm", "--topology", "agg", "--model", "m", "--namespace", schema_only_namespace,
               "--hf-token-secret", "", "--timeout", "0", kubeconfig=kubectl.kubeconfig)
    assert code == 1 and "not Ready after 0s" in capsys.readouterr().err
