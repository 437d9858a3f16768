"""The in-cluster data plane: the Dynamo frontend and a mocker worker as pods on the local
cluster's real node, reaching the platform release's etcd and NATS through their Services by DNS,
the way a DynamoGraphDeployment's pods would (the operator that would make them stays on kwok, so
the Deployments are written here). `kubectl port-forward`s on 127.0.0.1 give the conformance
probes the frontend, etcd and NATS (`frontend_url`, `etcd_url`, `nats_url`, `nats_monitor_url`,
the same names as the embedded data plane's), and `restart` kills a pod for the fault probes.

The embedded data plane (dataplane.py, processes on 127.0.0.1) stays the fallback where the
cluster has no real node.

    plane = ClusterDataPlane(cluster.kubectl)
    plane.up()            # Deployments Ready, port-forwards up, the model answers
    plane.frontend_url    # http://127.0.0.1:<port>
    plane.placement()     # [ProbeResult]: "running on local-node" per component
    plane.down()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import http_client, images
from .clusters import node as real_node
from .conformance.result import ProbeResult, failed, passed, timed
from .dataplane import LoopbackEndpoints
from .kube import Kubectl, KubectlError, pod_placement
from .paths import CHART, ROOT
from .tiny_model import MODEL

FRONTEND_PORT = 8000
COMPONENTS = ("frontend", "worker")
# The chart's default client ports (values.yaml): the pods dial them through the Services.
CLIENT_PORTS = {name: yaml.safe_load((CHART / "values.yaml").read_text())["global"][name]["clientPort"]
                for name in ("etcd", "nats")}
NATS_MONITOR_PORT = yaml.safe_load((CHART / "charts" / "nats" / "values.yaml").read_text())["monitorPort"]
# What the conformance probes reach on 127.0.0.1: one port-forward per Service, each local port
# name -> the Service's port.
FORWARDS = {"frontend": ("dynamo-local-frontend", {"frontend": FRONTEND_PORT}),
            "etcd": ("{release}-etcd", {"etcd": CLIENT_PORTS["etcd"]}),
            "nats": ("{release}-nats", {"nats": CLIENT_PORTS["nats"], "nats-monitor": NATS_MONITOR_PORT})}
FORWARD_PROCESSES = [f"port-forward-{name}" for name in FORWARDS]
APP_LABEL = "dynamo-local-dataplane"


@dataclass
class ClusterDataPlane(LoopbackEndpoints):
    kubectl: Kubectl
    namespace: str = "dynamo-system"
    release: str = "dynamo-platform"  # the platform release whose etcd and NATS it uses
    state_dir: Path = ROOT / ".cache" / "cluster-dataplane"

    def _port(self, name: str) -> int:
        """The local end of the port-forward that serves `name`."""
        return (self.processes.saved_ports() or {}).get(name, 0)

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, timeout: float = 300) -> bool:
        """Deploy (or keep) the frontend and worker, forward the frontend's port, and wait until
        the model answers completions. True if this call started the port-forward."""
        if self.healthy():
            return False
        self.processes.stop(FORWARD_PROCESSES)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.kubectl.apply(self.manifests())
        for name in COMPONENTS:
            self.kubectl.run("rollout", "status", f"deployment/{self._name(name)}", "-n", self.namespace,
                             f"--timeout={int(timeout)}s", timeout=timeout + 10)
        local = self.processes.save_ports([name for _, ports in FORWARDS.values() for name in ports])
        for name, (service, ports) in FORWARDS.items():
            self.processes.start(f"port-forward-{name}", [
                str(self.kubectl.binary), "--kubeconfig", str(self.kubectl.kubeconfig), "port-forward", "-n", self.namespace,
                "--address", "127.0.0.1", f"service/{service.format(release=self.release)}",
                *(f"{local[port]}:{remote}" for port, remote in ports.items())])
        self.processes.wait(self._serves_model, "the in-cluster frontend to serve the model", timeout, FORWARD_PROCESSES)
        return True

    def healthy(self) -> bool:
        return self.processes.all_alive(FORWARD_PROCESSES) and self._serves_model()

    def down(self) -> None:
        self.processes.remove(FORWARD_PROCESSES)
        try:
            self.kubectl.run("delete", "deployment,service", "-n", self.namespace, "-l", f"app.kubernetes.io/name={APP_LABEL}",
                             "--ignore-not-found", "--wait=true", "--timeout=60s")
        except KubectlError:
            pass  # the cluster may be gone already

    def restart(self, name: str, timeout: float = 120) -> None:
        """Fault injection: kill a pod (the frontend's or worker's, or the chart's etcd-0 or nats-0)
        at once, and return when its controller has a replacement Ready."""
        if name in COMPONENTS:
            selector = f"app.kubernetes.io/component={name},app.kubernetes.io/name={APP_LABEL}"
        else:
            selector = f"app.kubernetes.io/instance={self.release},app.kubernetes.io/name={name}"
        self.kubectl.run("delete", "pod", "-n", self.namespace, "-l", selector, "--grace-period=0", "--force", "--wait=true")
        self.kubectl.run("wait", "pod", "-n", self.namespace, "-l", selector, "--for=condition=Ready",
                         f"--timeout={int(timeout)}s", timeout=timeout + 10)

    def log_tails(self) -> str:
        out = [self.processes.tails(FORWARD_PROCESSES)]
        for name in COMPONENTS:
            try:
                logs = self.kubectl.run("logs", "-n", self.namespace, f"deployment/{self._name(name)}", "--tail=30")
            except KubectlError as err:
                logs = str(err)
            out.append(f"--- {name} (pod) ---\n{logs}")
        return "\n".join(out)

    def placement(self) -> list[ProbeResult]:
        """One result per component: where its pod runs ("running on <node>"), failed if not on a real node."""
        nodes = self.kubectl.items("nodes")

        def check(name: str):
            pods = self.kubectl.items("pods", "-n", self.namespace, "-l",
                                      f"app.kubernetes.io/name={APP_LABEL},app.kubernetes.io/component={name}")
            where = pod_placement(pods, nodes)
            return (passed if pods and where.startswith("running on") and ";" not in where else failed)(where, pods=len(pods))

        return [timed(f"dataplane/{name}", lambda name=name: check(name)) for name in COMPONENTS]

    # -- what runs -------------------------------------------------------------------------

    def _name(self, component: str) -> str:
        return f"dynamo-local-{component}"

    def _service_host(self, component: str) -> str:
        return f"{self.release}-{component}.{self.namespace}.svc.cluster.local"

    def manifests(self) -> list[dict[str, Any]]:
        dynamo = ["--discovery-backend", "etcd", "--event-plane", "nats"]
        frontend = ["python", "-m", "dynamo.frontend", "--http-port", str(FRONTEND_PORT), *dynamo]
        worker = ["python", "-m", "dynamo.mocker", "--model-path", images.TINY_MODEL, "--model-name", MODEL, *dynamo]
        frontend_probe = {"httpGet": {"path": "/live", "port": FRONTEND_PORT}, "periodSeconds": 2}
        return [
            self._deployment("frontend", frontend, {"containerPort": FRONTEND_PORT, "name": "http"}, frontend_probe),
            self._deployment("worker", worker),
            {
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": self._name("frontend"), "namespace": self.namespace, "labels": self._labels("frontend")},
                "spec": {"selector": self._labels("frontend"), "ports": [{"name": "http", "port": FRONTEND_PORT, "targetPort": "http"}]},
            },
        ]

    def _labels(self, component: str) -> dict[str, str]:
        return {"app.kubernetes.io/name": APP_LABEL, "app.kubernetes.io/component": component}

    def _deployment(self, component: str, command: list[str], port: dict | None = None,
                    readiness: dict | None = None) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": component, "image": images.RECIPES["dynamo"].ref, "imagePullPolicy": "Never",
            "command": command,
            "env": [
                {"name": "ETCD_ENDPOINTS", "value": f"http://{self._service_host('etcd')}:{CLIENT_PORTS['etcd']}"},
                {"name": "NATS_SERVER", "value": f"nats://{self._service_host('nats')}:{CLIENT_PORTS['nats']}"},
            ],
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "2Gi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        if port:
            container["ports"] = [port]
        if readiness:
            container["readinessProbe"] = readiness
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": self._name(component), "namespace": self.namespace, "labels": self._labels(component)},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": self._labels(component)},
                "template": {
                    "metadata": {"labels": self._labels(component)},
                    "spec": {
                        "nodeSelector": real_node.LABEL,
                        "tolerations": [{**real_node.TAINT, "operator": "Equal"}],
                        "automountServiceAccountToken": False,
                        "terminationGracePeriodSeconds": 5,
                        "securityContext": {"runAsNonRoot": True, "runAsUser": images.NONROOT, "runAsGroup": images.NONROOT,
                                            "seccompProfile": {"type": "RuntimeDefault"}},
                        "containers": [container],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                    },
                },
            },
        }

    def _serves_model(self) -> bool:
        return http_client.serves_model(self.frontend_url, MODEL)
