"""The in-cluster data plane: the Dynamo frontend and mocker workers as pods (on the local cluster's
real node, or on the kind cluster's workers), wired the way the installed operator wires a
DynamoGraphDeployment's pods. The wiring
is read from the installed release, not from the chart's defaults: the discovery backend and the
etcd/NATS addresses from its OperatorConfiguration (config.yaml of the operator's ConfigMap), the
addresses' Services for what the probes dial. The operator itself stays on kwok (no operator image
can be built here), so the Deployments, Services and discovery RBAC are written here, following
upstream's operator (docs/compatibility.md names the files).

The probes reach the frontend, etcd and NATS through their Services, never one pod, so a replaced
pod leaves no stale route. How this host reaches a Service is the cluster's (`Reach`): on the local
cluster its ClusterIP, which the real node's kube-proxy routes from this host onto the node's
bridge (nothing listens beyond the bridge and 127.0.0.1); on kind a NodePort of the control-plane
node, on the private dockerd's network.

    plane = ClusterDataPlane(KubeApi.like(cluster.kubectl))
    plane.up()            # Deployments rolled out, the model answers through the frontend Service
    plane.frontend_url    # http://<frontend ClusterIP>:8000
    plane.faults()        # the faults this wiring has: pods killed, etcd/NATS restarted where used
    plane.down()
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import yaml

from .. import images
from ..kube import REAL_NODE_LABEL, REAL_NODE_TAINT, condition, pod_placement, rollout_state, wait_for
from ..kube_api import CONFIG_MAP, DEPLOYMENT, NODE, POD, ROLE, SERVICE, SERVICE_ACCOUNT, KubeApi, KubeApiError
from ..results import ProbeResult, failed, passed, timed
from ..tiny_model import MODEL
from . import Fault, components, explaining_line

FRONTEND_PORT = 8000
# The worker's system server (health, metrics): its readiness is "the generate endpoint is
# registered", which is what makes it discoverable.
SYSTEM_PORT = 9090
COMPONENTS = ("frontend", "worker")
# The DynamoGraphDeployment these pods stand for; the operator names everything after it.
GRAPH = "dynamo-local"
FRONTEND_SERVICE = f"{GRAPH}-frontend"
APP_LABEL = "dynamo-local-dataplane"
DISCOVERY_ACCOUNT = f"{GRAPH}-k8s-service-discovery"
# The fault probes' observation window after a frontend or worker pod is replaced under Kubernetes
# discovery: a replacement that turns unhealthy after it first served leaves its Service's
# EndpointSlice after the readiness probe's period x failure threshold (10 s x 3, upstream's
# component_frontend.go and component_worker.go).
KUBERNETES_DISCOVERY_WINDOW = (30.0, "the readiness probe's period x failure threshold (10 s x 3 in upstream's "
                               "component_frontend.go and component_worker.go): a replacement that turns unhealthy "
                               "after recovering leaves its EndpointSlice within this")
# What the plane writes (all labelled app.kubernetes.io/name=APP_LABEL), in the order `down` deletes it.
OWN_KINDS = [DEPLOYMENT, SERVICE, SERVICE_ACCOUNT, ROLE, ("rbac.authorization.k8s.io/v1", "RoleBinding")]
DISCOVERY_LABELS = {"nvidia.com/dynamo-discovery-backend": "kubernetes", "nvidia.com/dynamo-discovery-enabled": "true"}


class WiringError(RuntimeError):
    pass


@dataclass(frozen=True)
class Placement:
    """Where the plane's pods run: a node selector and the tolerations that admit them there, and
    whether each component's replicas must land on distinct nodes (hostname spread, DoNotSchedule)."""

    where: str  # in words, for the report
    node_selector: dict[str, str]
    tolerations: list[dict[str, str]]
    spread: bool = False


REAL_NODE = Placement("the real node", REAL_NODE_LABEL, [{**REAL_NODE_TAINT, "operator": "Equal"}])

# How this host dials a Service: (name, namespace, port) -> "host:port".
Reach = Callable[[str, str, int], str]


@dataclass(frozen=True)
class Wiring:
    """How the installed operator wires workloads: its OperatorConfiguration's discovery backend and
    infrastructure addresses (an address is absent where that service is off)."""

    discovery: str
    etcd: str | None
    nats: str | None
    source: str  # where it was read, for the report

    @classmethod
    def from_release(cls, api: KubeApi, namespace: str, release: str) -> Wiring:
        for config_map in api.items(CONFIG_MAP, namespace, f"app.kubernetes.io/instance={release}"):
            config = yaml.safe_load((config_map.get("data") or {}).get("config.yaml") or "null")
            if isinstance(config, dict) and config.get("kind") == "OperatorConfiguration":
                infrastructure = config.get("infrastructure") or {}
                return cls(discovery=config["discovery"]["backend"], etcd=infrastructure.get("etcdAddress"),
                           nats=infrastructure.get("natsAddress"),
                           source=f"ConfigMap {namespace}/{config_map['metadata']['name']} config.yaml")
        raise WiringError(f"no OperatorConfiguration in the ConfigMaps of release {namespace}/{release}: "
                          "is the platform installed with dynamo-operator.enabled?")

    @property
    def event_plane(self) -> str:
        """NATS where the release configures it, else ZMQ (Dynamo 1.4+'s default)."""
        return "nats" if self.nats else "zmq"

    def describe(self) -> str:
        used = [f"etcd {self.etcd}"] * bool(self.etcd) + [f"NATS {self.nats}"] * bool(self.nats)
        return (f"{self.discovery} discovery, TCP request plane, {self.event_plane.upper()} event plane"
                f"{' via ' + ', '.join(used) if used else ', no etcd or NATS'} (from {self.source})")

    def env(self, component: str, k8s_namespace: str) -> list[dict[str, Any]]:
        """What the operator injects into a component's main container (upstream's
        component_common.go, component_frontend.go, component_worker.go and graph.go; the commits
        are in docs/compatibility.md)."""
        dynamo_namespace = f"{k8s_namespace}-{GRAPH}"
        env = [{"name": "DYN_NAMESPACE", "value": dynamo_namespace},
               {"name": "DYN_COMPONENT", "value": component},
               {"name": "DYN_PARENT_DGD_K8S_NAME", "value": GRAPH},
               {"name": "DYN_PARENT_DGD_K8S_NAMESPACE", "value": k8s_namespace}]
        env += [{"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}
                for name, path in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"),
                                   ("POD_UID", "metadata.uid"))]
        if self.discovery != "etcd":  # etcd is the runtime's own default, so the operator sets nothing
            env.append({"name": "DYN_DISCOVERY_BACKEND", "value": self.discovery})
        if component == "frontend":
            env += [{"name": "DYNAMO_PORT", "value": str(FRONTEND_PORT)},
                    {"name": "DYN_HTTP_PORT", "value": str(FRONTEND_PORT)},
                    {"name": "DYN_NAMESPACE_PREFIX", "value": dynamo_namespace}]
        else:
            env += [{"name": "DYN_SYSTEM_ENABLED", "value": "true"},
                    {"name": "DYN_SYSTEM_USE_ENDPOINT_HEALTH_STATUS", "value": '["generate"]'},
                    {"name": "DYN_SYSTEM_PORT", "value": str(SYSTEM_PORT)},
                    {"name": "DYN_HEALTH_CHECK_ENABLED", "value": "false"}]
        if self.nats:
            env.append({"name": "NATS_SERVER", "value": self.nats})
        if self.etcd:
            env.append({"name": "ETCD_ENDPOINTS", "value": self.etcd})
        # Not the operator's: 1.6.1's frontend defaults to ZMQ events and its mocker to NATS under
        # etcd or Kubernetes discovery, so the plane the release provides is named for both.
        env.append({"name": "DYN_EVENT_PLANE", "value": self.event_plane})
        return env


def service_address(url: str) -> tuple[str, str, int]:
    """(Service, namespace, port) of an in-cluster URL such as http://svc.ns.svc.cluster.local:2379."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    labels = host.split(".")
    if len(labels) < 2:
        raise WiringError(f"{url}: not a Service address (<service>.<namespace>...)")
    return labels[0], labels[1], parts.port or 0


@dataclass
class ClusterDataPlane:
    api: KubeApi
    namespace: str = "dynamo-system"
    release: str = "dynamo-platform"  # the platform release whose operator configuration it follows
    workers: int = 1
    frontends: int = 1
    placement: Placement = REAL_NODE
    reach: Reach | None = None  # None: the Service's ClusterIP (the local cluster's real node routes it)
    model = MODEL
    _addresses: dict[tuple[str, str, int], str] = field(default_factory=dict, repr=False)

    @cached_property
    def wiring(self) -> Wiring:
        return Wiring.from_release(self.api, self.namespace, self.release)

    # -- what the probes dial --------------------------------------------------------------

    def _address(self, service: str, namespace: str, port: int) -> str:
        key = (service, namespace, port)
        if key not in self._addresses:
            if self.reach:
                self._addresses[key] = self.reach(service, namespace, port)
            else:
                ip = self.api.get(SERVICE, service, namespace)["spec"]["clusterIP"]
                self._addresses[key] = f"{ip}:{port}"
        return self._addresses[key]

    def _service_url(self, scheme: str, address: str | None, port: int | None = None) -> str | None:
        if not address:
            return None
        service, namespace, service_port = service_address(address)
        return f"{scheme}://{self._address(service, namespace, port or service_port)}"

    @property
    def frontend_url(self) -> str:
        return f"http://{self._address(FRONTEND_SERVICE, self.namespace, FRONTEND_PORT)}"

    @property
    def etcd_url(self) -> str | None:
        return self._service_url("http", self.wiring.etcd)

    @property
    def nats_url(self) -> str | None:
        return self._service_url("nats", self.wiring.nats)

    @property
    def nats_monitor_url(self) -> str | None:
        if not self.wiring.nats:
            return None
        service, namespace, _ = service_address(self.wiring.nats)
        ports = self.api.get(SERVICE, service, namespace)["spec"]["ports"]
        monitor = next((p["port"] for p in ports if p.get("name") == "monitor"), None)
        return self._service_url("http", self.wiring.nats, monitor) if monitor else None

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, timeout: float = 300) -> bool:
        """Converge on the release's wiring: apply the objects (unchanged ones stay, changed wiring
        rolls the pods), wait for the rollout and for the model to answer through the frontend
        Service. True if the Deployments did not exist before."""
        existed = bool(self.api.items(DEPLOYMENT, self.namespace, f"app.kubernetes.io/name={APP_LABEL}"))
        self.api.apply(self.manifests())
        for name in COMPONENTS:
            self.api.watch_until(DEPLOYMENT, self.object_name(name), self.namespace, rolled_out, timeout)
        self.wait_serving(timeout)
        return not existed

    def wait_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._serves_model():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the in-cluster frontend ({self.frontend_url}) did not serve {MODEL} within "
                                   f"{timeout:.0f}s\n{self.log_tails()}")
            time.sleep(1)

    def healthy(self) -> bool:
        try:
            return self._serves_model()
        except KubeApiError:
            return False

    def down(self) -> None:
        try:
            self.api.delete_matching(OWN_KINDS, self.namespace, f"app.kubernetes.io/name={APP_LABEL}")
        except (KubeApiError, TimeoutError):
            pass  # the cluster may be gone already

    def log_tails(self) -> str:
        out = []
        for name in COMPONENTS:
            try:
                pods = self.pods(name)
                logs = self.api.logs(self.namespace, pods[0]["metadata"]["name"], tail=30) if pods else "no pod"
            except KubeApiError as err:
                logs = str(err)
            out.append(f"--- {name} (pod) ---\n{logs}")
        return "\n".join(out)

    def placement_results(self) -> list[ProbeResult]:
        """One result per component: where its pods run ("running on <node>[, <node>]"), failed if
        any runs on a simulated node or is not running."""
        nodes = self.api.items(NODE)

        def check(name: str):
            pods = self.pods(name)
            where = pod_placement(pods, nodes)
            return (passed if pods and where.startswith("running on") and ";" not in where else failed)(where, pods=len(pods))

        return [timed(f"dataplane/{name}", lambda name=name: check(name)) for name in COMPONENTS]

    def pods(self, component: str | None = None) -> list[dict[str, Any]]:
        selector = f"app.kubernetes.io/name={APP_LABEL}" + (f",app.kubernetes.io/component={component}" if component else "")
        return self.api.items(POD, self.namespace, selector)

    # -- faults: what the probes inject, and the plane's view of its pods (dataplane.Observed) ---

    @property
    def fault_components(self) -> tuple[str, ...]:
        """What a fault probe may kill under load: the frontend's and the worker's pods always, etcd
        and NATS only where this wiring uses them."""
        used = ("etcd",) * bool(self.wiring.etcd) + ("nats",) * bool(self.wiring.nats)
        return (*used, *COMPONENTS)

    def faults(self) -> list[Fault]:
        """One pod of each component killed at once (no grace period), its controller replacing it.
        Under Kubernetes discovery nothing holds a lease: the window covers what can still take a
        replacement out after it first served, its readiness probe turning it unready."""
        def fault(component: str) -> Fault:
            inject = functools.partial(self.restart, component)
            if component in COMPONENTS and self.wiring.discovery == "kubernetes":
                return Fault(component, "kill", inject, *KUBERNETES_DISCOVERY_WINDOW)
            return Fault.watched(component, "kill" if component in COMPONENTS else "restart", inject)

        return [fault(component) for component in self.fault_components]

    def _selector(self, component: str) -> str:
        if component in COMPONENTS:
            return f"app.kubernetes.io/name={APP_LABEL},app.kubernetes.io/component={component}"
        return f"app.kubernetes.io/instance={self.release},app.kubernetes.io/name={component}"

    def restart(self, component: str, timeout: float = 180) -> None:
        """Fault injection: kill one pod of `component` at once (no grace period) and return when
        its controller has a replacement Ready."""
        selector = self._selector(component)
        victim, *others = self.api.items(POD, self.namespace, selector)
        uid = victim["metadata"]["uid"]
        self.api.delete(POD, victim["metadata"]["name"], self.namespace, grace_period=0)

        def replaced() -> bool:
            # As many pods as before: with 3 etcd members, the 2 left are all Ready before the
            # replacement of the killed one exists.
            pods = self.api.items(POD, self.namespace, selector)
            return len(pods) == 1 + len(others) and all(
                p["metadata"]["uid"] != uid and condition(p, "Ready").get("status") == "True" for p in pods)

        wait_for(replaced, f"{component} pod replaced and Ready", timeout, interval=0.5)

    def instances(self) -> dict[str, str]:
        """Component -> its pods, each with its uid and container restarts: it changes exactly when
        a pod restarts a container or is replaced."""
        found = {}
        for component in self.fault_components:
            pods = self.api.items(POD, self.namespace, self._selector(component))
            found[component] = "; ".join(
                f"pod {p['metadata']['name']} (uid {p['metadata']['uid'][:8]}, restarts "
                f"{sum(c.get('restartCount', 0) for c in p.get('status', {}).get('containerStatuses', []))})"
                for p in sorted(pods, key=lambda p: p["metadata"]["name"])) or "no pod"
        return found

    def exit_reason(self, component: str) -> str:
        """Why a container of the component's pods last ended: the line of its previous run's log
        that explains it, else the kubelet's reason (OOMKilled, Error)."""
        for pod in self.api.items(POD, self.namespace, self._selector(component)):
            for status in pod.get("status", {}).get("containerStatuses", []):
                terminated = status.get("lastState", {}).get("terminated")
                if not terminated:
                    continue
                try:
                    logs = self.api.logs(self.namespace, pod["metadata"]["name"], status["name"], tail=60, previous=True)
                except KubeApiError:
                    logs = ""
                line = explaining_line(logs.splitlines())
                return f"{pod['metadata']['name']}: {line or terminated.get('reason', 'exited')}"
        return ""

    # -- what runs -------------------------------------------------------------------------

    def object_name(self, component: str) -> str:
        """The component's Deployment and Service (the operator names both alike)."""
        return f"{GRAPH}-{component}"

    def _labels(self, component: str) -> dict[str, str]:
        """The operator's pod labels (what its component Service selects), plus ours for clean-up."""
        return {"app.kubernetes.io/name": APP_LABEL, "app.kubernetes.io/component": component,
                "nvidia.com/dynamo-graph-deployment-name": GRAPH, "nvidia.com/dynamo-component-type": component,
                "nvidia.com/dynamo-component": component, "nvidia.com/dynamo-namespace": f"{self.namespace}-{GRAPH}"}

    def manifests(self) -> list[dict[str, Any]]:
        """The frontend and worker as the operator renders them for a DGD with one of each (their
        env, probes, ports and Services), running the local Dynamo image."""
        frontend = components.frontend("python")
        worker = components.worker("python", images.TINY_MODEL)
        frontend_probes = {
            "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}, "initialDelaySeconds": 15,
                              "periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 3},
            "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "initialDelaySeconds": 10,
                               "periodSeconds": 10, "timeoutSeconds": 3, "failureThreshold": 3}}
        worker_probes = {
            "livenessProbe": {"httpGet": {"path": "/live", "port": "system"}, "periodSeconds": 5,
                              "timeoutSeconds": 4, "failureThreshold": 1},
            "readinessProbe": {"httpGet": {"path": "/health", "port": "system"}, "periodSeconds": 10,
                               "timeoutSeconds": 4, "failureThreshold": 3},
            "startupProbe": {"httpGet": {"path": "/live", "port": "system"}, "periodSeconds": 10,
                             "timeoutSeconds": 5, "failureThreshold": 720}}
        objects = [
            self._deployment("frontend", frontend, self.frontends, [{"containerPort": FRONTEND_PORT, "name": "http"}], frontend_probes),
            self._deployment("worker", worker, self.workers, [{"containerPort": SYSTEM_PORT, "name": "system"}],
                             worker_probes),
            self._service("frontend", {"name": "http", "port": FRONTEND_PORT, "targetPort": "http"}),
            self._service("worker", {"name": "system", "port": SYSTEM_PORT, "targetPort": "system"}),
        ]
        if self.wiring.discovery == "kubernetes":
            objects += discovery_rbac(self.namespace)
        return objects

    def _service(self, component: str, port: dict[str, Any]) -> dict[str, Any]:
        labels = self._labels(component)
        if self.wiring.discovery == "kubernetes":
            # Discovery watches the EndpointSlices of Services with these labels (the EndpointSlice
            # controller copies a Service's labels onto its slices).
            labels = {**labels, **DISCOVERY_LABELS}
        selector = {k: labels[k] for k in ("nvidia.com/dynamo-component-type", "nvidia.com/dynamo-namespace",
                                           "nvidia.com/dynamo-component")}
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": self.object_name(component), "namespace": self.namespace, "labels": labels},
                "spec": {"selector": selector, "ports": [port]}}

    def _deployment(self, component: str, command: list[str], replicas: int, ports: list[dict],
                    probes: dict[str, Any]) -> dict[str, Any]:
        kubernetes_discovery = self.wiring.discovery == "kubernetes"
        container: dict[str, Any] = {
            "name": "main", "image": images.RECIPES["dynamo"].ref, "imagePullPolicy": "Never",
            "command": command, "env": self.wiring.env(component, self.namespace), "ports": ports, **probes,
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "2Gi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        labels = {**self._labels(component), **(DISCOVERY_LABELS if kubernetes_discovery else {})}
        pod_spec: dict[str, Any] = {
            "nodeSelector": self.placement.node_selector,
            "tolerations": self.placement.tolerations,
            # Only Kubernetes discovery calls the API server; etcd discovery gets no token.
            "automountServiceAccountToken": kubernetes_discovery,
            "terminationGracePeriodSeconds": 5,
            "securityContext": {"runAsNonRoot": True, "runAsUser": images.NONROOT, "runAsGroup": images.NONROOT,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        }
        if kubernetes_discovery:
            pod_spec["serviceAccountName"] = DISCOVERY_ACCOUNT
        if self.placement.spread:
            # One replica per node, so the loss of a node takes one replica, not all.
            pod_spec["topologySpreadConstraints"] = [{
                "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": self._labels(component)}}]
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": self.object_name(component), "namespace": self.namespace, "labels": labels},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": self._labels(component)},
                "template": {"metadata": {"labels": labels}, "spec": pod_spec},
            },
        }

    def _serves_model(self) -> bool:
        return components.serves_model(self.frontend_url)


def rolled_out(deployment: dict[str, Any] | None) -> bool:
    """The Deployment's current spec is rolled out and no pod of an older one is left (what
    `kubectl rollout status` waits for)."""
    if deployment is None:
        return False
    done, _ = rollout_state(deployment)
    return done and deployment.get("status", {}).get("replicas", 0) == deployment["spec"].get("replicas", 1)


def discovery_rbac(namespace: str) -> list[dict[str, Any]]:
    """What the operator makes per DGD under Kubernetes discovery (upstream's
    internal/discovery/resource.go): a ServiceAccount whose Role watches Endpoints, Pods and
    EndpointSlices and owns the pods' DynamoWorkerMetadata."""
    def meta(name: str) -> dict[str, Any]:
        return {"name": name, "namespace": namespace,
                "labels": {"app.kubernetes.io/name": APP_LABEL, "app.kubernetes.io/component": "rbac"}}

    rules = [
        {"apiGroups": [""], "resources": ["endpoints", "pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["nvidia.com"], "resources": ["dynamoworkermetadatas"],
         "verbs": ["create", "get", "list", "watch", "update", "patch", "delete"]},
    ]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(DISCOVERY_ACCOUNT)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(f"{DISCOVERY_ACCOUNT}-role"),
         "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(f"{DISCOVERY_ACCOUNT}-binding"),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{DISCOVERY_ACCOUNT}-role"},
         "subjects": [{"kind": "ServiceAccount", "name": DISCOVERY_ACCOUNT, "namespace": namespace}]},
    ]
