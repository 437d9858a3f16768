"""The deploy stage of a conformance run: put a model on the platform, probe it, take it off.

Each step is a probe result: validate (server-side dry run against the installed CRDs), apply,
Ready (the operator reconciled it), health and inference through a port-forward to the frontend,
undeploy. On a cluster whose nodes are all simulated (the local kwok cluster) no container runs,
so Ready and the probes skip with that reason; validate, apply and undeploy still run for real.
"""

from __future__ import annotations

from ..deploy import cluster, templates
from ..deploy.config import DeploymentConfig
from ..kube import Kubectl, KubectlError
from . import health, inference
from .result import Outcome, ProbeResult, failed, passed, skipped, timed

SIMULATED = "every node a DGD can use is simulated (kwok): no operator or worker container runs, so the DGD cannot become Ready"


def run(kubectl: Kubectl, config: DeploymentConfig, *, timeout: float, keep: bool = False) -> list[ProbeResult]:
    manifest = templates.render(config)
    name = f"{config.namespace}/{config.dgd_name}"
    results: list[ProbeResult] = []

    def step(check: str, action) -> bool:
        def probe() -> Outcome:
            try:
                return passed(action() or "")
            except KubectlError as err:
                return failed(err.stderr.strip()[:300])
        results.append(timed(f"deploy/{check}", probe))
        return results[-1].ok

    if not step("validate", lambda: cluster.validate(kubectl, manifest) or f"{name} accepted (server-side dry run)"):
        return results
    if not step("apply", lambda: cluster.apply(kubectl, manifest) or f"{name} applied ({config.runtime}, {config.topology})"):
        return results
    if cluster.simulated_nodes(kubectl):
        results.append(timed("deploy/ready", lambda: skipped(SIMULATED)))
        results.append(timed("deploy/inference", lambda: skipped(SIMULATED)))
    else:
        ready = timed("deploy/ready", lambda: passed(f"{name} Ready")
                      if cluster.wait_ready(kubectl, config.namespace, config.dgd_name, timeout, progress=lambda _: None)
                      else failed(f"{name} not Ready after {timeout:.0f}s: "
                                  f"{cluster.ready_state(kubectl, config.namespace, config.dgd_name)[1]}"))
        results.append(ready)
        if ready.ok:
            service = f"{config.dgd_name}-frontend"
            try:
                with cluster.port_forward(kubectl, config.namespace, service, templates.FRONTEND_PORT) as url:
                    results += health.frontend(url)
                    results += inference.functional(url, config.served_model_name or config.model)
            except KubectlError as err:
                message = f"svc/{service}: {err.stderr.strip()[:300]}"
                results.append(timed("deploy/port-forward", lambda: failed(message)))
    if not keep:
        step("undeploy", lambda: f"{name} deleted" if cluster.undeploy(kubectl, config.namespace, config.dgd_name, wait=False)
             else f"{name} was already gone")
    return results
