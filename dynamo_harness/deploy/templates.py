"""DynamoGraphDeployment manifests built from a DeploymentConfig: one function per role, no text
substitution. Runtimes: vLLM, SGLang, TRT-LLM; topologies: agg, agg-router, disagg,
disagg-router, disagg-planner, disagg-multinode.

The services are built in v1alpha1 terms; `api_version: v1beta1` (the default, the docs'
canonical form) maps them onto a `spec.components` list (v1beta1.py); v1alpha1 serves older
operators. Flags appear only when set (the dynamo-actions rules): `--dp-size` and `--ep-size` are omitted at
1, `--mem-fraction-static` only when non-empty, boolean flags only when true.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from . import v1beta1, worker_settings
from .config import DeploymentConfig

V1ALPHA1 = "nvidia.com/v1alpha1"
FRONTEND_PORT = 8000
WORKER_MODULE = {"vllm": "dynamo.vllm", "sglang": "dynamo.sglang", "trtllm": "dynamo.trtllm"}
# Service names as in the upstream examples of each backend.
WORKER_NAMES = {
    "vllm": {"decode": "VllmDecodeWorker", "prefill": "VllmPrefillWorker"},
    "sglang": {"decode": "decode", "prefill": "prefill"},
    "trtllm": {"decode": "TRTLLMDecodeWorker", "prefill": "TRTLLMPrefillWorker"},
}
WORKING_DIR = {"vllm": "/workspace/examples/backends/vllm", "sglang": "/workspace/examples/backends/sglang",
               "trtllm": "/workspace/examples/backends/trtllm"}
# EFA's environment is kept once, in the EKS overlay (worker_settings.efa_env); InfiniBand's here.
INFINIBAND_ENV = {"NCCL_IB_DISABLE": "0", "UCX_TLS": "rc,cuda_copy,cuda_ipc"}


def render(c: DeploymentConfig) -> dict[str, Any]:
    """The DynamoGraphDeployment of c, in c.api_version."""
    dgd = render_v1alpha1(c)
    return v1beta1.from_v1alpha1(dgd) if c.api_version == "v1beta1" else dgd


def render_v1alpha1(c: DeploymentConfig) -> dict[str, Any]:
    services: dict[str, Any] = {"Frontend": frontend(c)}
    roles = ["decode", "prefill"] if c.disaggregated else ["decode"]
    for role in roles:
        services[WORKER_NAMES[c.runtime][role]] = worker(c, role)
    if c.topology == "disagg-planner":
        services["Planner"] = planner(c)
        if c.replicas.prometheus:
            services["Prometheus"] = prometheus(c)
    spec: dict[str, Any] = {"backendFramework": c.runtime, "services": services}
    if c.model_pvc:
        spec["pvcs"] = [{"name": c.model_pvc, "create": False}]
    return {
        "apiVersion": V1ALPHA1,
        "kind": "DynamoGraphDeployment",
        "metadata": {
            "name": c.dgd_name,
            "namespace": c.namespace,
            "labels": {"app.kubernetes.io/managed-by": "dynamo-harness",
                       "dynamo-platform.io/topology": c.topology},
            **orchestrator_metadata(c),
        },
        "spec": spec,
    }


def frontend_address(c: DeploymentConfig) -> str:
    """In-cluster URL of the frontend Service the operator creates (<dgd>-frontend)."""
    return f"http://{c.dgd_name}-frontend.{c.namespace}.svc.cluster.local:{FRONTEND_PORT}"


def _container(image: str, command: list[str] | None = None, args: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"image": image}
    if command:
        container["command"] = command
    if args:
        container["args"] = args
    container.update(extra)
    return container


def _env(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs.items()]


def frontend(c: DeploymentConfig) -> dict[str, Any]:
    extras = shlex.split(c.command_extras.frontend)
    service: dict[str, Any] = {
        "componentType": "frontend",
        "replicas": c.replicas.frontend,
        # The image's default command runs the frontend; a command is set only to append flags.
        "extraPodSpec": {"mainContainer": _container(c.main_image, ["python3", "-m", "dynamo.frontend"] if extras else None, extras)},
    }
    if c.effective_router_mode:
        service["envs"] = _env({"DYN_ROUTER_MODE": c.effective_router_mode})
    return service


def worker_args(c: DeploymentConfig, role: str) -> list[str]:
    """The worker's command-line flags, in the order a user would write them."""
    mode = ["--disaggregation-mode", role] if c.disaggregated else []
    gpus = _worker_gpus(c, role) * _worker_nodes(c, role)
    if c.runtime == "vllm":
        args = ["--model", c.model]
        if c.served_model_name:
            args += ["--served-model-name", c.served_model_name]
        if gpus > 1:
            args += ["--tensor-parallel-size", str(gpus)]
        args += mode
    elif c.runtime == "trtllm":
        args = ["--model-path", c.model, "--served-model-name", c.served_model_name or c.model]
        if gpus > 1:
            args += ["--tensor-parallel-size", str(gpus)]
        args += mode
    else:
        s, flags = c.sglang_scaling, c.sglang_flags
        args = ["--model-path", c.model, "--served-model-name", c.served_model_name or c.model,
                "--page-size", str(s.page_size), "--tp-size", str(s.tp_size)]
        if s.dp_size > 1:
            args += ["--dp-size", str(s.dp_size)]
        if s.ep_size > 1:
            args += ["--ep-size", str(s.ep_size)]
        args += [flag for flag, on in (("--enable-dp-attention", flags.enable_dp_attention),
                                        ("--trust-remote-code", flags.trust_remote_code),
                                        ("--skip-tokenizer-init", flags.skip_tokenizer_init)) if on]
        if flags.mem_fraction_static:
            args += ["--mem-fraction-static", flags.mem_fraction_static]
        if c.disaggregated:
            args += mode + ["--disaggregation-transfer-backend", c.sglang_disagg.disagg_transfer_backend,
                            "--disaggregation-bootstrap-port", str(c.sglang_disagg.disagg_bootstrap_port)]
    return args + shlex.split(c.command_extras.worker)


def _worker_gpus(c: DeploymentConfig, role: str) -> int:
    if c.runtime == "sglang":
        return getattr(c.sglang_scaling, f"{role}_gpus")
    return c.gpus_per_worker


def _worker_nodes(c: DeploymentConfig, role: str) -> int:
    if not c.multinode:
        return 1
    if c.runtime == "sglang":
        return getattr(c.sglang_scaling, f"multinode_{role}_node_count")
    return c.multinode_node_count


def worker(c: DeploymentConfig, role: str) -> dict[str, Any]:
    gpus, nodes = _worker_gpus(c, role), _worker_nodes(c, role)
    limits: dict[str, Any] = {"gpu": str(gpus)}
    env: list[dict[str, Any]] = []
    main = _container(c.main_image, ["python3", "-m", WORKER_MODULE[c.runtime]], worker_args(c, role),
                      workingDir=WORKING_DIR[c.runtime])
    if c.rdma.kind != "none":
        resource = "vpc.amazonaws.com/efa" if c.rdma.kind == "efa" else "rdma/ib"
        limits["custom"] = {resource: str(c.rdma.devices)}
        env += worker_settings.efa_env() if c.rdma.kind == "efa" else _env(INFINIBAND_ENV)
        # Registering GPU memory with the NIC pins pages: IPC_LOCK, nothing broader.
        main["securityContext"] = {"capabilities": {"add": ["IPC_LOCK"]}}
    if c.model_pvc:
        env.append({"name": "HF_HOME", "value": c.model_mount_path})  # downloads land on the PVC and are reused
    service: dict[str, Any] = {"componentType": "worker"}
    if c.disaggregated:
        service["subComponentType"] = role
    service.update({
        "replicas": getattr(c.replicas, role),
        "resources": {"limits": limits},
        "sharedMemory": {"size": c.shared_memory},
        "extraPodSpec": {"mainContainer": main},
    })
    if c.multinode:
        service["multinode"] = {"nodeCount": nodes}
    if c.hf_token_secret:
        service["envFromSecret"] = c.hf_token_secret
    if env:
        service["envs"] = env
    if c.model_pvc:
        service["volumeMounts"] = [{"name": c.model_pvc, "mountPoint": c.model_mount_path}]
    if c.rdma.host_network:
        service["extraPodSpec"].update({"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"})
    if c.rdma.pod_annotations:
        service["extraPodMetadata"] = {"annotations": dict(c.rdma.pod_annotations)}
    return service


def planner(c: DeploymentConfig) -> dict[str, Any]:
    settings = json.dumps({"environment": "kubernetes", "backend": c.runtime, "mode": "disagg"}, separators=(",", ":"))
    args = ["-m", "dynamo.planner", "--config", settings, *shlex.split(c.command_extras.planner)]
    service: dict[str, Any] = {
        "componentType": "planner",
        "replicas": c.replicas.planner,
        "extraPodSpec": {"mainContainer": _container(c.planner_image, ["python3"], args)},
    }
    if c.hf_token_secret:
        service["envFromSecret"] = c.hf_token_secret
    return service


def prometheus(c: DeploymentConfig) -> dict[str, Any]:
    return {
        "componentType": "main",
        "replicas": c.replicas.prometheus,
        "extraPodSpec": {"mainContainer": _container(c.prometheus_image, None, shlex.split(c.command_extras.prometheus))},
    }


def orchestrator_metadata(c: DeploymentConfig) -> dict[str, Any]:
    """Multinode on LeaderWorkerSet: the operator uses LWS for DGDs that opt out of Grove."""
    if c.multinode and c.multinode_backend == "lws":
        return {"annotations": {"nvidia.com/enable-grove": "false"}}
    return {}
