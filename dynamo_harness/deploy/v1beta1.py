"""The v1beta1 form of a rendered DynamoGraphDeployment: the docs' canonical `spec.components` list.

The templates build each component once, in v1alpha1 terms (services by name, the
`extraPodSpec.mainContainer` overrides); this maps that onto v1beta1 the way upstream's conversion
does: one list entry per service keyed by `name`, `type` (prefill and decode are types of their
own), and every pod-level setting in a native `podTemplate` whose container `main` carries the
image, command, env, envFrom and resources.
"""

from __future__ import annotations

import copy
from typing import Any

API_VERSION = "nvidia.com/v1beta1"
MAIN = "main"
GPU_RESOURCE = "nvidia.com/gpu"


def from_v1alpha1(dgd: dict[str, Any]) -> dict[str, Any]:
    spec = dgd["spec"]
    volumes = {pvc["name"]: {"name": pvc["name"], "persistentVolumeClaim": {"claimName": pvc["name"]}}
               for pvc in spec.get("pvcs", [])}
    out_spec: dict[str, Any] = {"backendFramework": spec["backendFramework"]}
    if spec.get("envs"):
        out_spec["env"] = copy.deepcopy(spec["envs"])
    out_spec["components"] = [component(name, service, volumes) for name, service in spec["services"].items()]
    return {**copy.deepcopy({k: v for k, v in dgd.items() if k != "spec"}), "apiVersion": API_VERSION, "spec": out_spec}


def component(name: str, service: dict[str, Any], volumes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    pod = copy.deepcopy(service.get("extraPodSpec", {}))
    main = {"name": MAIN, **pod.pop("mainContainer", {})}
    if service.get("envs"):
        main["env"] = copy.deepcopy(service["envs"])
    if service.get("envFromSecret"):
        main["envFrom"] = [{"secretRef": {"name": service["envFromSecret"]}}]
    if service.get("resources"):
        main["resources"] = {kind: copy.deepcopy(items) if kind == "claims" else quantities(items)
                             for kind, items in service["resources"].items()}
    mounts = service.get("volumeMounts", [])
    if mounts:
        main["volumeMounts"] = [{"name": m["name"], "mountPath": m["mountPoint"]} for m in mounts]
        pod["volumes"] = [copy.deepcopy(volumes[m["name"]]) for m in mounts]
    out: dict[str, Any] = {"name": name, "type": service.get("subComponentType") or service["componentType"]}
    out["replicas"] = service["replicas"]
    if "multinode" in service:
        out["multinode"] = copy.deepcopy(service["multinode"])
    if "sharedMemory" in service:
        out["sharedMemorySize"] = service["sharedMemory"]["size"]
    template: dict[str, Any] = {}
    if service.get("extraPodMetadata"):
        template["metadata"] = copy.deepcopy(service["extraPodMetadata"])
    template["spec"] = {"containers": [main], **pod}
    out["podTemplate"] = template
    return out


def quantities(items: dict[str, Any]) -> dict[str, str]:
    """v1alpha1's {gpu, custom: {...}} resource shorthand as core/v1 resource names."""
    out: dict[str, str] = {}
    for key, value in items.items():
        if key == "gpu":
            out[GPU_RESOURCE] = value
        elif key == "custom":
            out.update(value)
        else:
            out[key] = value
    return out
