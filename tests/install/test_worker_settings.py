"""Worker settings reach workers: with each cloud overlay installed, `dynamo-harness deploy` reads
the release's worker settings (its operator ConfigMap's workload-settings.yaml) and the DGD the API
server stores carries them on every worker, prefill and decode component, in both API versions.

The DGDs go to a namespace the platform's webhooks skip (no operator answers them here); what is
judged is the object the API server stored, read back in the version it was written in."""

import pytest
import yaml

from dynamo_harness.cli import main as harness
from dynamo_harness.conformance import deployment, health
from dynamo_harness.results import Status
from dynamo_harness.deploy.config import API_VERSIONS, parse
from dynamo_harness.deploy.worker_settings import worker_pod_templates
from dynamo_harness.paths import OVERLAYS
from dynamo_harness.helm_release import SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES

CLOUD_OVERLAYS = ["aks-spot", "eks-efa", "gke"]
# agg has one worker component, disagg a decode and a prefill one.
TOPOLOGIES = {"agg": 1, "disagg": 2}


def overlay_defaults(overlay):
    return yaml.safe_load((OVERLAYS / f"{overlay}.yaml").read_text())["dynamo-operator"]["dynamo"]["workerDefaults"]


@pytest.mark.parametrize("overlay", CLOUD_OVERLAYS)
def test_the_stored_dgd_carries_the_overlays_worker_settings_on_every_worker(install, kubectl, schema_only_namespace,
                                                                            overlay):
    # Its webhooks must skip the schema-only namespace too: no operator answers them here.
    release = install(overlay, SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, wait=False)
    defaults = overlay_defaults(overlay)
    for api_version in API_VERSIONS:
        for topology, workers in TOPOLOGIES.items():
            name = f"{topology}-{api_version}"
            assert harness(["deploy", "--runtime", "vllm", "--topology", topology, "--model", "Qwen/Qwen3-0.6B",
                            "--name", name, "--namespace", schema_only_namespace, "--api-version", api_version,
                            "--hf-token-secret", "", "--no-wait", "--kubeconfig", str(kubectl.kubeconfig),
                            "--platform-namespace", release.namespace, "--platform-release", release.name]) == 0
            stored = kubectl.get(f"dynamographdeployments.{api_version}.nvidia.com", name, "-n", schema_only_namespace)
            pods = worker_pod_templates(stored)
            assert len(pods) == workers, f"{name}: {sorted(pods)}"
            for component, pod in pods.items():
                where = f"{overlay}: {name}/{component}"
                (main,) = [c for c in pod["containers"] if c["name"] == "main"]
                assert [e for e in defaults.get("env", []) if e not in main.get("env", [])] == [], where
                for kind, items in defaults.get("resources", {}).items():
                    assert {k: str(v) for k, v in items.items()}.items() <= main["resources"][kind].items(), where
                assert defaults.get("nodeSelector", {}).items() <= pod.get("nodeSelector", {}).items(), where
                assert [t for t in defaults.get("tolerations", []) if t not in pod.get("tolerations", [])] == [], where


def test_the_conformance_deploy_stage_deploys_with_the_releases_settings_and_skips_the_pod_check_on_kwok(
        install, kubectl, kube_api, schema_only_namespace):
    release = install("eks-efa", SKIP_WEBHOOKS_IN_LABELLED_NAMESPACES, wait=False)
    kubectl.wait_for(lambda: health.operator_is_simulated(kube_api, release.namespace), "the operator pod on a kwok node", 60)
    config = parse({"runtime": "sglang", "topology": "disagg", "model": "Qwen/Qwen3-0.6B", "namespace": schema_only_namespace,
                    "hf_token_secret": ""})
    results = {r.name: r for r in deployment.run(kube_api, config, timeout=5, keep=True,
                                                 platform=(release.namespace, release.name))}
    assert results["deploy/apply"].status is Status.PASS, results["deploy/apply"].reason
    checked = results["deploy/worker-settings"]
    # Local: every node is; kind: the nodes are real, the operator is not (no image for it here).
    assert checked.status is Status.SKIP and "simulated (kwok)" in checked.reason, checked.reason
    stored = kubectl.get("dynamographdeployment", config.dgd_name, "-n", schema_only_namespace)
    for component, pod in worker_pod_templates(stored).items():
        (main,) = pod["containers"]
        assert {"name": "FI_PROVIDER", "value": "efa"} in main["env"], component
