"""The worker settings of a platform release and their merge into a DynamoGraphDeployment.

A cloud overlay sets `dynamo-operator.dynamo.workerDefaults` (env, resources, node selector,
tolerations: the EFA settings on EKS, the spot and GPU taints on AKS, the GPU pool on GKE).
Upstream's operator has no such setting, so the chart renders them in `workload-settings.yaml` of
the operator's ConfigMap, which the operator does not read; `dynamo-harness render | deploy`
read them from there (an installed release) or from the values files themselves (offline) and
merge them into every worker, prefill and decode component.

The user's own settings win, each by its identity: an env var by name (the component's main
container or the DGD's graph-wide env), a resource by name (in requests or limits, so requests
and limits of one resource always come from one side), a node-selector entry by key, a
toleration by key. What the user does not set is added, the release's entries first.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ..kube_api import CONFIG_MAP, KubeApi, KubeApiError
from ..paths import CHART, OVERLAYS
from . import v1beta1

KEY = "dynamo-operator.dynamo.workerDefaults"
WORKLOAD_SETTINGS = "workload-settings.yaml"
# Component types that run a model (upstream's ComponentTypeWorker/Prefill/Decode, in both API versions).
WORKER_TYPES = ("worker", "prefill", "decode")
MAIN = v1beta1.MAIN
# The EKS overlay holds the EFA environment (upstream's EFA guide: the required FI_* settings and
# NIXL's LIBFABRIC backend for SGLang and TRT-LLM); `rdma.kind: efa` of a deployment reads it from there.
EFA_OVERLAY = OVERLAYS / "eks-efa.yaml"
# v1alpha1's resource shorthand: core names it spells its own way; any other goes under `custom`.
V1ALPHA1_NAMES = {"cpu": "cpu", "memory": "memory", v1beta1.GPU_RESOURCE: "gpu"}


class WorkerSettingsError(ValueError):
    """Worker settings that cannot be read; the message names the source and what to do."""


@dataclass(frozen=True)
class WorkerSettings:
    env: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)  # requests, limits, claims
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""  # where they were read, for messages

    def __bool__(self) -> bool:
        return bool(self.env or self.node_selector or self.tolerations or any(self.resources.values()))

    def summary(self) -> str:
        names = [f"env {', '.join(e['name'] for e in self.env)}" if self.env else "",
                 f"resources {', '.join(resource_names(self.resources))}" if resource_names(self.resources) else "",
                 f"nodeSelector {', '.join(self.node_selector)}" if self.node_selector else "",
                 f"tolerations {', '.join(t.get('key', '') or '*' for t in self.tolerations)}" if self.tolerations else ""]
        return "; ".join(n for n in names if n) or "none"


# -- reading -----------------------------------------------------------------------------------

@cache
def _schema() -> dict[str, Any]:
    """The chart's own schema of workerDefaults: a file is judged as `helm install` would judge it."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    for key in ("dynamo-operator", "dynamo", "workerDefaults"):
        schema = schema["properties"][key]
    return schema


def from_defaults(defaults: Any, source: str) -> WorkerSettings:
    """Settings from a workerDefaults mapping, checked against the chart's schema."""
    defaults = defaults or {}
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(defaults), key=lambda e: list(e.absolute_path))
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path)
        raise WorkerSettingsError(f"{source}: {KEY}{'.' + where if where else ''}: {errors[0].message}")
    resources = {kind: ({name: str(q) for name, q in items.items()} if kind != "claims" else list(items))
                 for kind, items in (defaults.get("resources") or {}).items()}
    return WorkerSettings(copy.deepcopy(defaults.get("env") or []), resources, dict(defaults.get("nodeSelector") or {}),
                          copy.deepcopy(defaults.get("tolerations") or []), source)


def _worker_defaults(values: Any) -> Any:
    for key in ("dynamo-operator", "dynamo", "workerDefaults"):
        if not isinstance(values, dict):
            return None
        values = values.get(key)
    return values


def coalesce(base: Any, override: Any) -> Any:
    """Helm's merge of values files: maps merge key by key, null deletes a key, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = coalesce(out.get(key), value)
    return out


def from_values_files(paths: Sequence[Path]) -> WorkerSettings:
    """What a release installed with `-f` of each file, in order, would hold: the chart's defaults
    (subchart, then umbrella), then each file's `dynamo-operator.dynamo.workerDefaults`."""
    subchart = yaml.safe_load((CHART / "charts" / "dynamo-operator" / "values.yaml").read_text())
    defaults = coalesce(subchart["dynamo"]["workerDefaults"],
                        _worker_defaults(yaml.safe_load((CHART / "values.yaml").read_text())) or {})
    for path in paths:
        try:
            values = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as err:
            raise WorkerSettingsError(f"--platform-values {path}: {err}") from None
        if values is not None and not isinstance(values, dict):
            raise WorkerSettingsError(f"--platform-values {path}: expected a Helm values mapping")
        found = _worker_defaults(values)
        if found is not None:
            defaults = coalesce(defaults, found)
    return from_defaults(defaults, ", ".join(str(p) for p in paths))


def from_workload_settings(text: str, source: str) -> WorkerSettings:
    """Settings from the operator ConfigMap's workload-settings.yaml."""
    return from_defaults((yaml.safe_load(text) or {}).get("workerDefaults"), source)


def release_labels(release: str) -> dict[str, str]:
    """The labels of the operator's ConfigMaps in a release (the chart's standard labels)."""
    return {"app.kubernetes.io/instance": release, "app.kubernetes.io/name": "dynamo-operator"}


def from_release(api: KubeApi, namespace: str, release: str) -> WorkerSettings:
    """Settings of an installed release, from its operator ConfigMap's workload-settings.yaml (none
    when the release sets none). Raises WorkerSettingsError when the release cannot be read."""
    selector = ",".join(f"{k}={v}" for k, v in release_labels(release).items())
    try:
        config_maps = api.items(CONFIG_MAP, namespace, selector)
    except KubeApiError as err:
        raise WorkerSettingsError(f"cannot read the worker settings of release {namespace}/{release}: {err.stderr.strip()}; "
                                  "give the release's values files with --platform-values instead") from None
    if not config_maps:
        raise WorkerSettingsError(f"no Dynamo operator of release {release} in namespace {namespace} (no ConfigMap labelled "
                                  f"{selector}); name the release with --platform-namespace/--platform-release, or give "
                                  "its values files with --platform-values")
    for config_map in config_maps:
        text = config_map.get("data", {}).get(WORKLOAD_SETTINGS)
        if text is not None:
            return from_workload_settings(text, f"release {namespace}/{release} "
                                                f"(ConfigMap {config_map['metadata']['name']}, {WORKLOAD_SETTINGS})")
    return WorkerSettings(source=f"release {namespace}/{release}")


def efa_env() -> list[dict[str, Any]]:
    """The EFA environment, from the one place it is kept (the EKS overlay)."""
    return from_values_files([EFA_OVERLAY]).env


# -- merging -----------------------------------------------------------------------------------

def merge(dgd: dict[str, Any], settings: WorkerSettings) -> dict[str, Any]:
    """A copy of the DGD (v1beta1 or v1alpha1) with the settings merged into every worker, prefill
    and decode component; the DGD's own settings win (module docstring)."""
    out = copy.deepcopy(dgd)
    if not settings:
        return out
    spec = out["spec"]
    if out["apiVersion"].endswith("/v1alpha1"):
        graph_env = _names(spec.get("envs"))
        for service in spec.get("services", {}).values():
            if service.get("componentType") in WORKER_TYPES:
                _merge_service(service, settings, graph_env)
    else:
        graph_env = _names(spec.get("env"))
        for component in spec.get("components", []):
            if component.get("type") in WORKER_TYPES:
                _merge_pod(component.setdefault("podTemplate", {}).setdefault("spec", {}), settings, graph_env)
    return out


def _names(env: Iterable[dict[str, Any]] | None) -> set[str]:
    return {e["name"] for e in env or []}


def resource_names(resources: dict[str, Any]) -> set[str]:
    """Resource names a core/v1 resources block (or settings) requests or limits."""
    return {name for kind in ("requests", "limits") for name in resources.get(kind) or {}}


def _defaults_first(defaults: list[dict[str, Any]], own: list[dict[str, Any]], taken: set[str], key: str) -> list[dict[str, Any]]:
    return [copy.deepcopy(d) for d in defaults if d.get(key, "") not in taken] + own


def _main_container(pod: dict[str, Any]) -> dict[str, Any]:
    """The container the operator treats as the component's own (named `main`), created if absent."""
    containers = pod.setdefault("containers", [])
    found = next((c for c in containers if c.get("name") == MAIN), None)
    if found is None:
        found = {"name": MAIN}
        containers.insert(0, found)
    return found


def _merge_pod(pod: dict[str, Any], settings: WorkerSettings, graph_env: set[str]) -> None:
    """A v1beta1 podTemplate spec: env and resources on the main container, placement on the pod."""
    main = _main_container(pod)
    own_env = main.get("env", [])
    if env := _defaults_first(settings.env, own_env, _names(own_env) | graph_env, "name"):
        main["env"] = env
    own_resources = main.get("resources", {})
    taken = resource_names(own_resources)
    for kind in ("requests", "limits"):
        for name, quantity in (settings.resources.get(kind) or {}).items():
            if name not in taken:
                main.setdefault("resources", {}).setdefault(kind, {})[name] = quantity
    if claims := _defaults_first(settings.resources.get("claims") or [], own_resources.get("claims", []),
                                 _names(own_resources.get("claims")), "name"):
        main.setdefault("resources", {})["claims"] = claims
    _merge_placement(pod, settings)


def _merge_placement(pod: dict[str, Any], settings: WorkerSettings) -> None:
    if settings.node_selector:
        pod["nodeSelector"] = {**settings.node_selector, **pod.get("nodeSelector", {})}
    own = pod.get("tolerations", [])
    if tolerations := _defaults_first(settings.tolerations, own, {t.get("key", "") for t in own}, "key"):
        pod["tolerations"] = tolerations


def _merge_service(service: dict[str, Any], settings: WorkerSettings, graph_env: set[str]) -> None:
    """A v1alpha1 service: env in `envs`, resources in its {cpu, memory, gpu, custom} shorthand,
    placement in `extraPodSpec`."""
    container = service.get("extraPodSpec", {}).get("mainContainer", {})
    own_env = service.get("envs", [])
    if env := _defaults_first(settings.env, own_env, _names(own_env) | _names(container.get("env")) | graph_env, "name"):
        service["envs"] = env
    own = service.get("resources", {})
    taken = resource_names({kind: v1beta1.quantities(own.get(kind) or {}) for kind in ("requests", "limits")})
    taken |= resource_names(container.get("resources", {}))
    for kind in ("requests", "limits"):
        for name, quantity in (settings.resources.get(kind) or {}).items():
            if name in taken:
                continue
            target = service.setdefault("resources", {}).setdefault(kind, {})
            if name in V1ALPHA1_NAMES:
                target[V1ALPHA1_NAMES[name]] = quantity
            else:
                target.setdefault("custom", {})[name] = quantity
    if claims := _defaults_first(settings.resources.get("claims") or [], own.get("claims", []), _names(own.get("claims")), "name"):
        service.setdefault("resources", {})["claims"] = claims
    if settings.node_selector or settings.tolerations:
        _merge_placement(service.setdefault("extraPodSpec", {}), settings)


# -- checking ----------------------------------------------------------------------------------

def not_carried(settings: WorkerSettings, pod: dict[str, Any]) -> list[str]:
    """The settings a pod spec (a running pod's, or a v1beta1 podTemplate's) lacks, each by the
    identity the merge uses, so a value the user chose instead counts as carried."""
    containers = pod.get("containers", [])
    main = next((c for c in containers if c.get("name") == MAIN), containers[0] if containers else {})
    env = _names(main.get("env"))
    resources = resource_names(main.get("resources", {}))
    tolerated = {t.get("key", "") for t in pod.get("tolerations", [])}
    missing = [f"env {e['name']}" for e in settings.env if e["name"] not in env]
    missing += [f"resource {name}" for name in sorted(resource_names(settings.resources) - resources)]
    missing += [f"nodeSelector {key}" for key in settings.node_selector if key not in pod.get("nodeSelector", {})]
    missing += [f"toleration {t.get('key', '') or '*'}" for t in settings.tolerations if t.get("key", "") not in tolerated]
    return missing


def worker_pod_templates(dgd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Component name -> the pod spec of each worker, prefill and decode component, in v1beta1 terms
    (a v1alpha1 DGD is mapped the way the templates map it)."""
    if dgd["apiVersion"].endswith("/v1alpha1"):
        dgd = v1beta1.from_v1alpha1(dgd)
    return {c["name"]: c.get("podTemplate", {}).get("spec", {}) for c in dgd["spec"].get("components", [])
            if c.get("type") in WORKER_TYPES}
