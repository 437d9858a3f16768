"""Typed inputs of a model deployment, parsed strictly from YAML or the compact JSON inputs.

The compact JSON groups (`replicas`, `sglang_scaling`, `sglang_flags`, `sglang_disagg`,
`command_extras`) are the ones of the dynamo-actions `deploy-model` workflow, with the same keys
and defaults, so existing dispatch commands keep working. Every field is checked when parsed:
integers are integers (a numeric string such as "2" is accepted and converted, "two" is not),
unknown keys are refused, and each error names the field and what it accepts.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .. import formats
from ..paths import chart_metadata

RUNTIMES = ("vllm", "sglang", "trtllm")
# Which orchestrator runs multinode workers; the operator picks LWS for a DGD annotated
# nvidia.com/enable-grove: "false" (upstream multinode guide, "Orchestrator Selection").
MULTINODE_BACKENDS = ("grove", "lws")
TOPOLOGIES = ("agg", "agg-router", "disagg", "disagg-router", "disagg-planner", "disagg-multinode")
ROUTER_MODES = ("", "round-robin", "random", "kv", "least-loaded", "direct")
RDMA_KINDS = ("none", "efa", "infiniband")
# nvidia.com API versions a DGD renders in: v1beta1 (docs' canonical form) or v1alpha1 (older operators).
API_VERSIONS = ("v1beta1", "v1alpha1")
DNS_LABEL = re.compile(formats.DNS_LABEL)
QUANTITY = re.compile(formats.QUANTITY)
# The Dynamo release the chart deploys (its appVersion): the one home of every default image tag.
DYNAMO_VERSION = chart_metadata()["appVersion"]
DYNAMO_IMAGES = "nvcr.io/nvidia/ai-dynamo"
DEFAULT_IMAGES = {
    "vllm": f"{DYNAMO_IMAGES}/vllm-runtime:{DYNAMO_VERSION}",
    "sglang": f"{DYNAMO_IMAGES}/sglang-runtime:{DYNAMO_VERSION}",
    "trtllm": f"{DYNAMO_IMAGES}/tensorrtllm-runtime:{DYNAMO_VERSION}",
}
PLANNER_IMAGE = f"{DYNAMO_IMAGES}/dynamo-planner:{DYNAMO_VERSION}"
PROMETHEUS_IMAGE = "quay.io/prometheus/prometheus:v3.4.1"


class ConfigError(ValueError):
    """Bad deployment input; the message names the field and what it accepts."""


@dataclass(frozen=True)
class Replicas:
    frontend: int = 1
    decode: int = 1
    prefill: int = 1
    planner: int = 1
    # A per-graph Prometheus for the planner; 0 uses the cluster's (dynamo-operator.dynamo.metrics.prometheusEndpoint).
    prometheus: int = 0


@dataclass(frozen=True)
class SglangScaling:
    page_size: int = 16
    tp_size: int = 1
    dp_size: int = 1
    ep_size: int = 1
    decode_gpus: int = 1
    prefill_gpus: int = 1
    multinode_decode_node_count: int = 1
    multinode_prefill_node_count: int = 1


@dataclass(frozen=True)
class SglangFlags:
    enable_dp_attention: bool = False
    trust_remote_code: bool = True
    skip_tokenizer_init: bool = True
    mem_fraction_static: str = ""  # empty: flag omitted


@dataclass(frozen=True)
class SglangDisagg:
    disagg_transfer_backend: str = "nixl"
    disagg_bootstrap_port: int = 30001


@dataclass(frozen=True)
class CommandExtras:
    """Extra command-line flags appended per role (a shell-quoted string each)."""

    worker: str = ""
    frontend: str = ""
    planner: str = ""
    prometheus: str = ""


@dataclass(frozen=True)
class Rdma:
    """RDMA for KV transfer between workers. efa: EKS (vpc.amazonaws.com/efa); infiniband: rdma/ib (AKS ND, on-prem)."""

    kind: str = "none"
    devices: int = 1  # RDMA devices per worker pod
    host_network: bool = False  # clouds whose RDMA needs the host network (TKE route-ENI, some on-prem fabrics)
    pod_annotations: dict[str, str] = field(default_factory=dict)  # e.g. a cloud's network-mode annotation


@dataclass(frozen=True)
class DeploymentConfig:
    runtime: str
    topology: str
    model: str
    image: str = ""  # empty: the runtime's default image
    name: str = ""  # empty: <runtime>-<topology>
    namespace: str = "default"
    served_model_name: str = ""  # empty: the model
    replicas: Replicas = field(default_factory=Replicas)
    sglang_scaling: SglangScaling = field(default_factory=SglangScaling)
    sglang_flags: SglangFlags = field(default_factory=SglangFlags)
    sglang_disagg: SglangDisagg = field(default_factory=SglangDisagg)
    command_extras: CommandExtras = field(default_factory=CommandExtras)
    gpus_per_worker: int = 1  # vLLM / TRT-LLM: GPUs per worker pod (tensor parallel across them)
    multinode_node_count: int = 2  # vLLM / TRT-LLM disagg-multinode: nodes per worker replica
    multinode_backend: str = "grove"  # disagg-multinode orchestrator: grove, or lws (LeaderWorkerSet)
    router_mode: str = ""  # empty: kv for the *-router topologies, the frontend's default otherwise
    hf_token_secret: str = "hf-token-secret"  # empty: no token (public models)
    shared_memory: str = "16Gi"
    model_pvc: str = ""  # existing PVC holding models or serving as the download cache
    model_mount_path: str = "/models"
    planner_image: str = PLANNER_IMAGE
    prometheus_image: str = PROMETHEUS_IMAGE
    rdma: Rdma = field(default_factory=Rdma)
    api_version: str = "v1beta1"

    @property
    def dgd_name(self) -> str:
        return self.name or f"{self.runtime}-{self.topology}"

    @property
    def main_image(self) -> str:
        return self.image or DEFAULT_IMAGES[self.runtime]

    @property
    def disaggregated(self) -> bool:
        return self.topology.startswith("disagg")

    @property
    def multinode(self) -> bool:
        return self.topology == "disagg-multinode"

    @property
    def effective_router_mode(self) -> str:
        return self.router_mode or ("kv" if self.topology.endswith("-router") else "")


COMPACT_GROUPS = {"replicas": Replicas, "sglang_scaling": SglangScaling, "sglang_flags": SglangFlags,
                  "sglang_disagg": SglangDisagg, "command_extras": CommandExtras}
# Field annotations are strings (postponed evaluation): the nested groups by their type name.
NESTED = {cls.__name__: cls for cls in (*COMPACT_GROUPS.values(), Rdma)}


def _coerce(path: str, value: Any, kind: Any) -> Any:
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ConfigError(f"{path}: expected true or false, got {value!r}")
    if kind == "int":
        if isinstance(value, bool):
            raise ConfigError(f"{path}: expected a whole number, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{path}: expected a whole number, got {value!r}")
    if kind == "str":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)  # e.g. mem_fraction_static given as 0.82
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {value!r}")
        return value
    if kind == "dict[str, str]":
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ConfigError(f"{path}: expected a map of strings, got {value!r}")
        return dict(value)
    raise AssertionError(f"unhandled field type {kind!r}")


def _build(cls: type, data: Any, path: str) -> Any:
    if data is None or data == "":
        return cls()
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}: not valid JSON ({err.msg} at column {err.colno}): {data!r}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected an object with keys {[f.name for f in fields(cls)]}, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; known: {sorted(known)}")
    values = {}
    for key, value in data.items():
        kind, where = known[key].type, f"{path}.{key}" if path else key
        values[key] = _build(NESTED[kind], value, where) if kind in NESTED else _coerce(where, value, kind)
    return cls(**values)


def parse(data: dict[str, Any]) -> DeploymentConfig:
    """A validated DeploymentConfig from a mapping (YAML file, CLI options, compact JSON strings)."""
    for required in ("runtime", "topology", "model"):
        if not data.get(required):
            raise ConfigError(f"{required}: required")
    config = _build(DeploymentConfig, data, "")
    validate(config)
    return config


def load_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of deployment fields")
    return data


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def validate(c: DeploymentConfig) -> None:
    _require(c.runtime in RUNTIMES, f"runtime: {c.runtime!r} is not one of {list(RUNTIMES)}")
    _require(c.topology in TOPOLOGIES, f"topology: {c.topology!r} is not one of {list(TOPOLOGIES)}")
    _require(bool(DNS_LABEL.match(c.dgd_name)) and len(c.dgd_name) <= 45,
             f"name: {c.dgd_name!r} must be a lowercase DNS label of at most 45 characters (pod names append to it)")
    _require(bool(DNS_LABEL.match(c.namespace)), f"namespace: {c.namespace!r} is not a valid namespace name")
    _require(c.hf_token_secret == "" or bool(DNS_LABEL.match(c.hf_token_secret)), f"hf_token_secret: {c.hf_token_secret!r} is not a valid Secret name")
    _require(c.model_pvc == "" or bool(DNS_LABEL.match(c.model_pvc)), f"model_pvc: {c.model_pvc!r} is not a valid PVC name")
    _require(c.model_mount_path.startswith("/"), f"model_mount_path: {c.model_mount_path!r} must be an absolute path")
    _require(bool(QUANTITY.match(c.shared_memory)), f"shared_memory: {c.shared_memory!r} is not a size such as 16Gi")
    _require(c.router_mode in ROUTER_MODES, f"router_mode: {c.router_mode!r} is not one of {list(ROUTER_MODES)}")
    _require(c.api_version in API_VERSIONS, f"api_version: {c.api_version!r} is not one of {list(API_VERSIONS)}")
    _require(c.rdma.kind in RDMA_KINDS, f"rdma.kind: {c.rdma.kind!r} is not one of {list(RDMA_KINDS)}")
    _require(c.multinode_backend in MULTINODE_BACKENDS,
             f"multinode_backend: {c.multinode_backend!r} is not one of {list(MULTINODE_BACKENDS)}")
    for group in (c.replicas, c.sglang_scaling):
        for f in fields(group):
            value = getattr(group, f.name)
            low = 0 if f.name == "prometheus" else 1
            prefix = "replicas" if group is c.replicas else "sglang_scaling"
            _require(low <= value <= 1024, f"{prefix}.{f.name}: {value} is out of range ({low}..1024)")
    for name in ("gpus_per_worker", "multinode_node_count"):
        _require(1 <= getattr(c, name) <= 1024, f"{name}: {getattr(c, name)} is out of range (1..1024)")
    _require(1 <= c.rdma.devices <= 64, f"rdma.devices: {c.rdma.devices} is out of range (1..64)")
    port = c.sglang_disagg.disagg_bootstrap_port
    _require(1024 <= port <= 65535, f"sglang_disagg.disagg_bootstrap_port: {port} is not a port in 1024..65535")
    _require(c.sglang_disagg.disagg_transfer_backend in ("nixl", "mooncake", "fake"),
             f"sglang_disagg.disagg_transfer_backend: {c.sglang_disagg.disagg_transfer_backend!r} is not one of nixl, mooncake, fake")
    fraction = c.sglang_flags.mem_fraction_static
    if fraction:
        try:
            _require(0 < float(fraction) <= 1, "")
        except (ValueError, ConfigError):
            raise ConfigError(f"sglang_flags.mem_fraction_static: {fraction!r} must be empty or a number in (0, 1]") from None
    for f in fields(c.command_extras):
        try:
            shlex.split(getattr(c.command_extras, f.name))
        except ValueError as err:
            raise ConfigError(f"command_extras.{f.name}: cannot split into flags ({err})") from None
    if c.runtime == "sglang":
        s = c.sglang_scaling
        for role in ("decode", "prefill"):
            gpus, nodes = getattr(s, f"{role}_gpus"), getattr(s, f"multinode_{role}_node_count") if c.multinode else 1
            _require(s.tp_size == gpus * nodes,
                     f"sglang_scaling.tp_size ({s.tp_size}) must equal {role}_gpus x nodes ({gpus} x {nodes}): "
                     "SGLang shards one replica over all of its GPUs")
        _require(s.tp_size % s.dp_size == 0, f"sglang_scaling.dp_size ({s.dp_size}) must divide tp_size ({s.tp_size})")
        _require(s.ep_size <= s.tp_size, f"sglang_scaling.ep_size ({s.ep_size}) must not exceed tp_size ({s.tp_size})")
        _require(s.dp_size == 1 or c.sglang_flags.enable_dp_attention,
                 f"sglang_scaling.dp_size ({s.dp_size}) > 1 needs sglang_flags.enable_dp_attention=true")


def ignored_inputs(c: DeploymentConfig) -> list[str]:
    """Inputs set away from their defaults that this runtime and topology do not use (a warning, as in dynamo-actions)."""
    notes = []
    if c.runtime != "sglang":
        for group in ("sglang_scaling", "sglang_flags", "sglang_disagg"):
            if getattr(c, group) != type(getattr(c, group))():
                notes.append(f"{group} applies to runtime sglang only; ignored for {c.runtime}")
    if not c.multinode and c.multinode_backend != "grove":
        notes.append(f"multinode_backend is used by disagg-multinode only; ignored for {c.topology}")
    if not c.disaggregated and c.replicas.prefill != 1:
        notes.append(f"replicas.prefill is ignored by the {c.topology} topology (no prefill workers)")
    if c.topology != "disagg-planner" and (c.replicas.planner != 1 or c.replicas.prometheus):
        notes.append(f"replicas.planner / replicas.prometheus are used by disagg-planner only, not {c.topology}")
    return notes
