"""The Kubernetes API through the `kubernetes` Python client: what the packaged dynamo-conformance
and `dynamo-harness deploy` need, with no kubectl binary.

One KubeApi is bound to a kubeconfig (and context), or, given none, to the pod's ServiceAccount
(in-cluster config). Objects go in and come out as plain dicts, shaped as `kubectl get -o json`
prints them (list items carry their kind and apiVersion), so the pure helpers of kube.py
(condition, rollout_state, simulated) read both. Errors are KubeApiError, whose `stderr` reads
as kubectl's would ("Error from server (NotFound): ...").

Kinds are named (apiVersion, kind); a bare group ("nvidia.com") takes the version the API server
prefers, as `kubectl get` does.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from kubernetes import client, config, dynamic, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import exceptions as dynamic_errors
from kubernetes.stream import portforward, stream
from urllib3.exceptions import HTTPError

Kind = tuple[str, str]  # (apiVersion or bare group, kind)

POD: Kind = ("v1", "Pod")
NODE: Kind = ("v1", "Node")
CONFIG_MAP: Kind = ("v1", "ConfigMap")
SERVICE: Kind = ("v1", "Service")
SERVICE_ACCOUNT: Kind = ("v1", "ServiceAccount")
PERSISTENT_VOLUME: Kind = ("v1", "PersistentVolume")
ENDPOINT_SLICE: Kind = ("discovery.k8s.io/v1", "EndpointSlice")
CRD: Kind = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
DEPLOYMENT: Kind = ("apps/v1", "Deployment")
STATEFUL_SET: Kind = ("apps/v1", "StatefulSet")
DAEMON_SET: Kind = ("apps/v1", "DaemonSet")
SECRET: Kind = ("v1", "Secret")
PERSISTENT_VOLUME_CLAIM: Kind = ("v1", "PersistentVolumeClaim")
ROLE: Kind = ("rbac.authorization.k8s.io/v1", "Role")
NETWORK_POLICY: Kind = ("networking.k8s.io/v1", "NetworkPolicy")
POD_DISRUPTION_BUDGET: Kind = ("policy/v1", "PodDisruptionBudget")
ROLLOUT_KINDS: tuple[Kind, ...] = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET)  # what rolls out (kube.rollout_state)
DGD: Kind = ("nvidia.com", "DynamoGraphDeployment")  # the version the API server prefers

FIELD_MANAGER = "dynamo-harness"


class KubeApiError(RuntimeError):
    """A refused or failed API call. `reason` is the API's (NotFound, Forbidden, Invalid, ...) or
    a client-side one (Unreachable, NoKind); `stderr` is the message as kubectl would print it."""

    def __init__(self, reason: str, message: str, status: int = 0):
        self.reason, self.message, self.status = reason, message, status
        self.stderr = f"Error from server ({reason}): {message}" if status else f"error: {message}"
        super().__init__(self.stderr)

    @property
    def not_found(self) -> bool:
        return self.reason == "NotFound"


def _translated(err: Exception) -> KubeApiError:
    if isinstance(err, dynamic_errors.ResourceNotFoundError):
        return KubeApiError("NoKind", f"the server doesn't have a resource type {err}")
    if isinstance(err, (ApiException, dynamic_errors.DynamicApiError)):
        status = getattr(err, "status", 0) or 0
        body = getattr(err, "body", None)
        try:
            found = json.loads(body) if body else {}
        except (TypeError, ValueError):
            found = {}
        return KubeApiError(found.get("reason") or getattr(err, "reason", None) or "Unknown",
                            found.get("message") or str(body or err).strip(), status)
    return KubeApiError("Unreachable", f"cannot reach the API server: {type(err).__name__}: {err}")


def _listed_items(resource, listed: dict[str, Any]) -> list[dict[str, Any]]:
    """A list's items with their kind and apiVersion, which a list leaves out and a watch event and
    `kubectl get -o json` carry."""
    return [{"apiVersion": resource.group_version, "kind": resource.kind, **item} for item in listed.get("items", [])]


API_ERRORS = (ApiException, dynamic_errors.DynamicApiError, dynamic_errors.ResourceNotFoundError, HTTPError, OSError)


class KubeApi:
    def __init__(self, kubeconfig: Path | None = None, context: str | None = None):
        self.kubeconfig, self.context = kubeconfig, context

    @classmethod
    def like(cls, kubectl) -> KubeApi:
        """Bound to what a Kubectl is bound to (its kubeconfig and context)."""
        return cls(kubectl.kubeconfig, kubectl.context)

    def __repr__(self) -> str:
        return f"KubeApi({self.kubeconfig or 'in-cluster'}{', ' + self.context if self.context else ''})"

    @cached_property
    def client(self) -> client.ApiClient:
        if self.kubeconfig is None:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
        try:
            return config.new_client_from_config(config_file=str(self.kubeconfig), context=self.context)
        except (config.ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError) as err:
            # the loader raises what its parse of a malformed file happens to raise
            raise KubeApiError("Kubeconfig", f"cannot use the kubeconfig {self.kubeconfig}: {type(err).__name__}: {err}") from None

    @cached_property
    def dynamic(self) -> dynamic.DynamicClient:
        try:
            return dynamic.DynamicClient(self.client)
        except API_ERRORS as err:
            raise _translated(err) from None

    def _call(self, function: Callable[[], Any]) -> Any:
        try:
            return function()
        except API_ERRORS as err:
            raise _translated(err) from None

    def resource(self, kind: Kind):
        api_version, name = kind
        search = ({"api_version": api_version} if "/" in api_version or api_version == "v1"
                  else {"group": api_version, "preferred": True})
        try:
            return self._call(lambda: self.dynamic.resources.get(kind=name, **search))
        except KubeApiError as err:
            if err.reason == "NoKind":
                raise KubeApiError("NoKind", f'the server doesn\'t have a resource type "{name}" ({api_version})') from None
            raise

    # -- reading -------------------------------------------------------------------------------

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> dict[str, Any]:
        resource = self.resource(kind)
        return self._call(lambda: resource.get(name=name, namespace=namespace).to_dict())

    def items(self, kind: Kind, namespace: str | None = None, selector: str | None = None) -> list[dict[str, Any]]:
        """Every object of a kind (in a namespace, matching a label selector), each with its kind
        and apiVersion, as `kubectl get -o json` gives them."""
        resource = self.resource(kind)
        return _listed_items(resource, self._call(lambda: resource.get(namespace=namespace, label_selector=selector).to_dict()))

    def server_version(self) -> str:
        return self._call(lambda: client.VersionApi(self.client).get_code(_request_timeout=20).git_version)

    # -- writing -------------------------------------------------------------------------------

    def apply(self, objects: list[dict[str, Any]], dry_run: bool = False) -> None:
        """Server-side apply, taking over conflicting fields (kubectl apply --server-side --force-conflicts);
        dry_run: the API server judges each object (schemas, webhooks) and stores nothing."""
        for obj in objects:
            resource = self.resource((obj["apiVersion"], obj["kind"]))
            extra = {"dry_run": "All"} if dry_run else {}
            self._call(lambda: resource.server_side_apply(body=obj, namespace=obj["metadata"].get("namespace"),
                                                          field_manager=FIELD_MANAGER, force_conflicts=True, **extra))

    def patch(self, kind: Kind, name: str, changes: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """A JSON merge patch (kubectl patch --type=merge): lists such as a node's taints are replaced whole."""
        resource = self.resource(kind)
        return self._call(lambda: resource.patch(body=changes, name=name, namespace=namespace,
                                                 content_type="application/merge-patch+json").to_dict())

    def delete(self, kind: Kind, name: str, namespace: str | None = None, *, wait: bool = False,
               timeout: float = 300, grace_period: int | None = None) -> bool:
        """Delete one object; False when there was none. With wait, until it is gone (finalizers run);
        grace_period 0 kills a pod at once (kubectl delete --grace-period=0 --force)."""
        resource = self.resource(kind)
        body = {} if grace_period is None else {"body": {"gracePeriodSeconds": grace_period}}
        try:
            self._call(lambda: resource.delete(name=name, namespace=namespace, **body))
        except KubeApiError as err:
            if err.not_found:
                return False
            raise
        if wait and self.watch_until(kind, name, namespace, lambda obj: obj is None, timeout) is not None:
            raise KubeApiError("Timeout", f"{resource.kind} {name} still there after {timeout:.0f}s")
        return True

    def delete_matching(self, kinds: list[Kind], namespace: str, selector: str, timeout: float = 60) -> None:
        """Delete every object of these kinds in the namespace that matches the label selector, and
        wait until each is gone."""
        for kind in kinds:
            for obj in self.items(kind, namespace, selector):
                self.delete(kind, obj["metadata"]["name"], namespace, wait=True, timeout=timeout)

    # -- waiting -------------------------------------------------------------------------------

    def watch_until(self, kind: Kind, name: str, namespace: str | None,
                    done: Callable[[dict[str, Any] | None], Any], timeout: float) -> dict[str, Any] | None:
        """Watch one object until done(object) is truthy (object None: it does not exist) or timeout.
        Returns the object last seen (None when gone or never there). Raises TimeoutError."""
        resource = self.resource(kind)
        deadline = time.monotonic() + timeout
        while True:
            listed = self._call(lambda: resource.get(namespace=namespace, field_selector=f"metadata.name={name}").to_dict())
            current = next(iter(_listed_items(resource, listed)), None)
            if done(current):
                return current
            version = listed["metadata"]["resourceVersion"]
            while (left := deadline - time.monotonic()) > 0:
                watcher = watch.Watch()
                try:
                    for event in self.dynamic.watch(resource, namespace=namespace, name=name, resource_version=version,
                                                    timeout=max(1, int(left)), watcher=watcher):
                        current = None if event["type"] == "DELETED" else event["raw_object"]
                        version = event["raw_object"]["metadata"]["resourceVersion"]
                        if done(current):
                            return current
                        if time.monotonic() > deadline:
                            break
                except ApiException as err:
                    if err.status == 410:  # the version is too old: list again
                        break
                    raise _translated(err) from None
                except API_ERRORS as err:
                    raise _translated(err) from None
                finally:
                    watcher.stop()
            else:
                raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {resource.kind} {name}")

    # -- pods ------------------------------------------------------------------------------------

    @cached_property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.client)

    def logs(self, namespace: str, pod: str, container: str | None = None, tail: int | None = None,
             previous: bool = False) -> str:
        """A pod's log (its last `tail` lines; previous: of the container's last run)."""
        extra = {"tail_lines": tail} if tail else {}
        return self._call(lambda: self.core.read_namespaced_pod_log(pod, namespace, container=container,
                                                                     previous=previous, **extra))

    def exec(self, namespace: str, pod: str, container: str, command: list[str], timeout: float = 30) -> str:
        """Run a command in a running container (kubectl exec) and return its stdout; a non-zero exit
        raises KubeApiError with its stderr."""
        session = self._call(lambda: stream(self.core.connect_get_namespaced_pod_exec, pod, namespace, container=container,
                                            command=command, stdout=True, stderr=True, stdin=False, tty=False,
                                            _preload_content=False, _request_timeout=timeout))
        try:
            session.run_forever(timeout=timeout)
            out, err = session.read_stdout(), session.read_stderr()
            try:
                code = session.returncode
            except (TypeError, KeyError, IndexError, ValueError):  # a status with no exit code: the exec failed
                code = -1
        finally:
            session.close()
        if code is None:
            raise KubeApiError("Timeout", f"{pod}/{container}: {command[0]} did not finish in {timeout:.0f}s")
        if code != 0:
            raise KubeApiError("ExitCode", f"{pod}/{container}: {command[0]} exited {code}: {err.strip() or out.strip()}")
        return out

    def proxy(self, namespace: str, pod: str, port: int, path: str, timeout: float = 20) -> str:
        """GET a path of a pod's port through the API server's pod proxy (kubectl get --raw .../proxy/PATH)."""
        response = self._call(lambda: self.core.connect_get_namespaced_pod_proxy_with_path(
            f"{pod}:{port}", namespace, path, _preload_content=False, _request_timeout=timeout))
        return response.data.decode()  # the body as served: the client would turn JSON into a Python repr

    def run_pod(self, pod: dict[str, Any], timeout: float = 120) -> tuple[int, str]:
        """Create a pod that runs to completion, wait for it (a watch), and return its first
        container's exit code and log; the pod is deleted afterwards, whatever happened."""
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        pods = self.resource(POD)
        self._call(lambda: pods.create(body=pod, namespace=namespace))
        try:
            finished = self.watch_until(POD, name, namespace, lambda p: p is None or p.get("status", {}).get("phase")
                                        in ("Succeeded", "Failed"), timeout)
            if finished is None:
                raise KubeApiError("NotFound", f'pod "{name}" was deleted before it finished', 404)
            state = next(iter(finished["status"].get("containerStatuses", [])), {}).get("state", {})
            code = state.get("terminated", {}).get("exitCode", 1)
            return code, self.logs(namespace, name)
        finally:
            try:
                self._call(lambda: pods.delete(name=name, namespace=namespace, body={"gracePeriodSeconds": 0}))
            except KubeApiError:
                pass  # already gone

    @contextmanager
    def port_forward(self, namespace: str, service: str, port: int) -> Iterator[str]:
        """Forward a free port on 127.0.0.1 to a ready pod behind the Service's `port`, in this
        process (each connection is one API port-forward stream); yields the local base URL."""
        pod, target = self._service_pod(namespace, service, port)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=self._pump, args=(conn, namespace, pod, target), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{listener.getsockname()[1]}"
        finally:
            stop.set()
            listener.close()

    def _service_pod(self, namespace: str, service: str, port: int) -> tuple[str, int]:
        """A ready pod behind the Service and the container port its `port` targets."""
        svc = self.get(SERVICE, service, namespace)
        spec_port = next((p for p in svc["spec"].get("ports", []) if p["port"] == port), None)
        if spec_port is None:
            raise KubeApiError("NoPort", f"svc/{service} has no port {port}")
        selector = ",".join(f"{k}={v}" for k, v in (svc["spec"].get("selector") or {}).items())
        pods = [p for p in self.items(POD, namespace, selector)
                if any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))]
        if not selector or not pods:
            raise KubeApiError("NoPod", f"svc/{service} has no ready pod to forward to")
        target = spec_port.get("targetPort", port)
        if isinstance(target, str):  # a named container port
            target = next((cp["containerPort"] for c in pods[0]["spec"]["containers"] for cp in c.get("ports", [])
                           if cp.get("name") == target), None)
            if target is None:
                raise KubeApiError("NoPort", f"svc/{service}: no container port named {spec_port['targetPort']}")
        return pods[0]["metadata"]["name"], int(target)

    def _pump(self, conn: socket.socket, namespace: str, pod: str, port: int) -> None:
        try:
            forward = portforward(self.core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
        except API_ERRORS:
            conn.close()
            return
        remote = forward.socket(port)
        remote.setblocking(True)
        try:
            while True:
                readable, _, _ = select.select([conn, remote], [], [], 60)
                if not readable:
                    continue
                for source, sink in ((conn, remote), (remote, conn)):
                    if source in readable:
                        data = source.recv(65536)
                        if not data:
                            return
                        sink.sendall(data)
        except OSError:
            return
        finally:
            conn.close()
            forward.close()
