"""The deploy stage of a conformance run: put a model on the platform, probe it, take it off.

Each step is a probe result: validate (server-side dry run against the installed CRDs), apply,
Ready (the operator reconciled it), health and inference through a port-forward to the frontend,
undeploy. On a cluster whose nodes are all simulated (the local kwok cluster) no container runs,
and where the platform's operator is simulated (kind here) nothing reconciles the DGD: Ready and
the probes skip with that reason; validate, apply and undeploy still run for real.

Given the platform release, the DGD gets the release's worker settings merged, as `dynamo-harness
deploy` does, and `deploy/worker-settings` checks that its running worker pods carry them.
"""

from __future__ import annotations

from typing import Any

from ..deploy import on_cluster, templates, worker_settings
from ..deploy.config import DeploymentConfig
from ..kube import simulated
from ..kube_api import DGD, NODE, POD, KubeApi, KubeApiError
from . import health, inference
from ..results import Outcome, ProbeResult, failed, passed, skipped, timed

SIMULATED = "every node a DGD can use is simulated (kwok): no operator or worker container runs, so the DGD cannot become Ready"
OPERATOR_SIMULATED = ("the platform's operator is simulated (kwok): no operator process reconciles the DGD, so it "
                      "cannot become Ready, though real nodes could run its pods")
# The labels upstream's operator puts on a DGD's pods (ai-dynamo/dynamo
# deploy/operator/internal/consts/consts.go, read at 0367e404b084336211ade8c536f8c45ab189af47:
# KubeLabelDynamoGraphDeploymentName, KubeLabelDynamoComponentType; MainContainerName is "main").
GRAPH_LABEL = "nvidia.com/dynamo-graph-deployment-name"
COMPONENT_TYPE_LABEL = "nvidia.com/dynamo-component-type"
WORKER_SETTINGS = "deploy/worker-settings"


def run(api: KubeApi, config: DeploymentConfig, *, timeout: float, keep: bool = False,
        platform: tuple[str, str] | None = None) -> list[ProbeResult]:
    """The deploy stage; `platform` is the (namespace, release) whose worker settings the DGD gets."""
    manifest = templates.render(config)
    name = f"{config.namespace}/{config.dgd_name}"
    results: list[ProbeResult] = []
    if platform:
        try:
            manifest = worker_settings.merge(manifest, worker_settings.from_release(api, *platform))
        except worker_settings.WorkerSettingsError as err:
            message = str(err)
            return [timed(WORKER_SETTINGS, lambda: failed(message))]

    def step(check: str, action) -> bool:
        def probe() -> Outcome:
            try:
                return passed(action() or "")
            except KubeApiError as err:
                return failed(err.stderr.strip()[:300])
        results.append(timed(f"deploy/{check}", probe))
        return results[-1].ok

    if not step("validate", lambda: on_cluster.validate(api, manifest) or f"{name} accepted (server-side dry run)"):
        return results
    if not step("apply", lambda: on_cluster.apply(api, manifest) or f"{name} applied ({config.runtime}, {config.topology})"):
        return results
    all_simulated = on_cluster.simulated_nodes(api)
    if all_simulated or health.operator_is_simulated(api, platform[0] if platform else None):
        reason = SIMULATED if all_simulated else OPERATOR_SIMULATED
        results.append(timed("deploy/ready", lambda: skipped(reason)))
        results.append(timed("deploy/inference", lambda: skipped(reason)))
    else:
        ready = timed("deploy/ready", lambda: passed(f"{name} Ready")
                      if on_cluster.wait_ready(api, config.namespace, config.dgd_name, timeout, progress=lambda _: None)
                      else failed(f"{name} not Ready after {timeout:.0f}s: "
                                  f"{on_cluster.ready_state(api, config.namespace, config.dgd_name)[1]}"))
        results.append(ready)
        if ready.ok:
            service = f"{config.dgd_name}-frontend"
            try:
                with on_cluster.port_forward(api, config.namespace, service, templates.FRONTEND_PORT) as url:
                    results += health.frontend(url)
                    results += inference.functional(url, config.served_model_name or config.model)
            except KubeApiError as err:
                message = f"svc/{service}: {err.stderr.strip()[:300]}"
                results.append(timed("deploy/port-forward", lambda: failed(message)))
    if platform:
        # Also when not Ready: a worker Pending for a missing toleration is named here.
        results.append(check_worker_settings(api, *platform, config.namespace, config.dgd_name))
    if not keep:
        step("undeploy", lambda: f"{name} deleted" if on_cluster.undeploy(api, config.namespace, config.dgd_name, wait=False)
             else f"{name} was already gone")
    return results


def check_worker_settings(api: KubeApi, platform_namespace: str, release: str, namespace: str, name: str) -> ProbeResult:
    """deploy/worker-settings: the worker pods of a deployed DGD carry the release's worker settings."""

    def check() -> Outcome:
        try:
            dgd = api.get(DGD, name, namespace)
        except KubeApiError as err:
            if not err.not_found:
                raise
            dgd = None
        if dgd is None:
            return worker_settings_verdict(worker_settings.WorkerSettings(), f"{namespace}/{name}", None, [], {})
        try:
            settings = worker_settings.from_release(api, platform_namespace, release)
        except worker_settings.WorkerSettingsError as err:
            return failed(str(err))
        pods = api.items(POD, namespace, f"{GRAPH_LABEL}={name}")
        nodes = {n["metadata"]["name"]: n for n in on_cluster.dgd_nodes(api.items(NODE))}
        return worker_settings_verdict(settings, f"{namespace}/{name}", dgd, pods, nodes,
                                       operator_simulated=health.operator_is_simulated(api, platform_namespace))

    return timed(WORKER_SETTINGS, check)


def worker_settings_verdict(settings: worker_settings.WorkerSettings, dgd_name: str, dgd: dict[str, Any] | None,
                            pods: list[dict[str, Any]], nodes: dict[str, dict[str, Any]], *,
                            operator_simulated: bool = False) -> Outcome:
    """Judge the pods of a DGD (those labelled with its name) against the release's worker settings;
    `nodes` are those a DGD's pods can land on. A pod on a simulated (kwok) node is not judged: no
    operator made it, no container runs. Nor is a DGD without pods where the release's operator is
    simulated: nothing made them."""
    if dgd is None:
        return skipped(f"DGD {dgd_name} not found: deploy it first, or name a deployed one with --dgd")
    if not settings:
        return skipped(f"{settings.source} sets no worker settings: nothing to check on {dgd_name}")
    workers = [p for p in pods if p["metadata"].get("labels", {}).get(COMPONENT_TYPE_LABEL) in worker_settings.WORKER_TYPES]
    on_kwok = [p for p in workers if (node := nodes.get(p["spec"].get("nodeName", ""))) is not None and simulated(node)]
    judged = [p for p in workers if p not in on_kwok]
    if not judged:
        if on_kwok:
            return skipped(f"the worker pods of {dgd_name} are simulated (kwok): no operator made them, no container runs")
        if nodes and all(simulated(n) for n in nodes.values()):
            return skipped(f"{dgd_name} has no worker pods and every node is simulated (kwok): no operator runs here")
        if operator_simulated:
            return skipped(f"{dgd_name} has no worker pods and the platform's operator is simulated (kwok): "
                           "nothing reconciles the DGD here")
        return failed(f"{dgd_name} has no worker pods (labels {GRAPH_LABEL}={dgd_name.split('/', 1)[1]}, "
                      f"{COMPONENT_TYPE_LABEL} in {'/'.join(worker_settings.WORKER_TYPES)}): has the operator reconciled it?")
    lacking = [f"{p['metadata']['name']} lacks {', '.join(missing)}" for p in judged
               if (missing := worker_settings.not_carried(settings, p["spec"]))]
    if lacking:
        return failed(f"worker pods of {dgd_name} miss the worker settings of {settings.source}: {'; '.join(lacking)}",
                      pods=len(judged), pods_lacking=len(lacking))
    return passed(f"{len(judged)} worker pod(s) of {dgd_name} carry {settings.summary()}", pods=len(judged))
