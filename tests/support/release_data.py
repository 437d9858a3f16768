"""The etcd and NATS data of a platform release whose etcd and NATS run on the local cluster's real
node (values/local/real-node.yaml): write a key and a JetStream message, read them back, check
where the pods run. The install tests that prove data survives upgrades, reinstalls and pod kills
share it."""

from __future__ import annotations

import asyncio
import base64
import ssl
import tempfile
import uuid
from dataclasses import dataclass

from dynamo_harness.kube import Kubectl, KubectlError, pod_placement


@dataclass
class DataPlane:
    """Reads and writes the release's etcd (etcdctl in the etcd pod, through kubectl exec) and
    NATS JetStream (nats-py from this host to the NATS Service's ClusterIP, over the node's bridge)."""

    kubectl: Kubectl
    namespace: str
    tls: bool = False
    auth: bool = False

    def _secret(self, name: str, key: str) -> str:
        data = self.kubectl.get("secret", name, "-n", self.namespace)["data"]
        return base64.b64decode(data[key]).decode()

    def etcdctl(self, *args: str) -> str:
        host = f"dynamo-platform-etcd.{self.namespace}.svc.cluster.local"
        flags = [f"--endpoints={'https' if self.tls else 'http'}://{host}:2379", "--command-timeout=10s"]
        if self.tls:
            flags.append("--cacert=/etc/etcd/tls/ca.crt")
        if self.auth:
            flags.append(f"--user=root:{self._secret('dynamo-platform-etcd-auth', 'root-password')}")
        return self.kubectl.run("exec", "-n", self.namespace, "dynamo-platform-etcd-0", "-c", "etcd", "--",
                                "etcdctl", *flags, *args)

    def etcdctl_until_it_answers(self, *args: str, timeout: float = 90) -> str:
        """etcdctl, retried: right after a (re)start etcd can still be electing itself, and on a
        busy 2-core machine a first TLS handshake can outlast one command timeout."""
        return self.kubectl.wait_for(lambda: self.etcdctl(*args) or "(empty)", f"etcdctl {args[0]} answering",
                                     timeout, interval=2, not_yet=(KubectlError,))

    def put(self, key: str, value: str) -> None:
        assert "OK" in self.etcdctl_until_it_answers("put", key, value)

    def get(self, key: str) -> str:
        return self.etcdctl_until_it_answers("get", key, "--print-value-only").strip()

    def nats_url(self) -> str:
        service = self.kubectl.get("service", "dynamo-platform-nats", "-n", self.namespace)
        return f"{'tls' if self.tls else 'nats'}://{service['spec']['clusterIP']}:4222"

    def jetstream(self, action):
        return asyncio.run(self._jetstream(action))

    async def _jetstream(self, action):
        import nats

        options = {"connect_timeout": 5, "allow_reconnect": False, "max_reconnect_attempts": 0}
        if self.auth:
            options |= {"user": "dynamo", "password": self._secret("dynamo-platform-nats-auth", "password")}
        if self.tls:
            with tempfile.NamedTemporaryFile("w", suffix=".crt", delete=False) as ca:
                ca.write(self._secret("dynamo-platform-nats-tls", "ca.crt"))
            options |= {"tls": ssl.create_default_context(cafile=ca.name),
                        "tls_hostname": f"dynamo-platform-nats.{self.namespace}.svc.cluster.local"}
        conn = await asyncio.wait_for(nats.connect(self.nats_url(), **options), 15)
        try:
            return await action(conn.jetstream(timeout=10))
        finally:
            await conn.close()

    def publish(self, stream: str, payload: bytes) -> None:
        async def action(js):
            await js.add_stream(name=stream, subjects=[f"{stream}.>"], storage="file")
            await js.publish(f"{stream}.kept", payload)
        self.jetstream(action)

    def read_first(self, stream: str) -> bytes:
        async def action(js):
            return (await js.get_msg(stream, seq=1)).data
        return self.jetstream(action)


def write_both(data: DataPlane) -> tuple[str, str, str, bytes]:
    key, value = f"/dynamo-test/{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    stream, payload = f"KEPT_{uuid.uuid4().hex[:8].upper()}", uuid.uuid4().bytes
    data.put(key, value)
    data.publish(stream, payload)
    return key, value, stream, payload


def assert_both_read_back(data: DataPlane, written: tuple[str, str, str, bytes]) -> None:
    key, value, stream, payload = written
    assert data.get(key) == value
    assert data.read_first(stream) == payload


def assert_on_real_node(kubectl: Kubectl, namespace: str) -> None:
    nodes = {n["metadata"]["name"]: n for n in kubectl.items("nodes")}
    pods = {p["metadata"]["name"]: p for p in kubectl.items("pods", "-n", namespace)}
    for name in ("dynamo-platform-etcd-0", "dynamo-platform-nats-0"):
        assert pod_placement([pods[name]], list(nodes.values())) == "running on local-node", name
    operator = [p for n, p in pods.items() if n.startswith("dynamo-platform-dynamo-operator")]
    assert operator and all(pod_placement([p], list(nodes.values())) == "simulated (kwok): no container runs" for p in operator)


def wait_statefulsets_ready(kubectl: Kubectl, namespace: str, timeout: float = 120) -> None:
    def ready():
        sets = kubectl.items("statefulsets", "-n", namespace)
        return sets and all(s["status"].get("readyReplicas", 0) == s["spec"]["replicas"] for s in sets)
    kubectl.wait_for(ready, f"StatefulSets in {namespace} ready", timeout)
