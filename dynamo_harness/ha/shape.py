"""What an HA overlay promises once installed, read from the running release.

etcd is asked through etcdctl in each member's own container (its 127.0.0.1, so each answers for
itself); NATS through each server's monitoring port via the API server's pod proxy; JetStream
through nats-py from this host, over a NodePort on the control-plane node's address (the kind
network's bridge on this host: nothing leaves the machine). Each check returns what it found and
a list of problems in words; [] means the promise holds.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from ..kube import Kubectl, condition, simulated
from ..kube_api import NODE, POD, POD_DISRUPTION_BUDGET, SERVICE, KubeApi, KubeApiError
from ..processes import accepts

QUORUM_COMPONENTS = ("etcd", "nats")
ETCD_CLIENT_PORT = 2379
NATS_CLIENT_PORT = 4222
NATS_MONITOR_PORT = 8222
# NATS tags its lines [WRN] and [ERR]; etcd logs JSON with a "level".
WARNING = re.compile(r'\[(WRN|ERR)\]|"level":"(warn|error)"')


def quorum(replicas: int) -> int:
    return replicas // 2 + 1


@dataclass
class HaRelease:
    kubectl: Kubectl  # the user's command where a fault is one (`kubectl drain`); everything else goes through `api`
    namespace: str
    release: str = "dynamo-platform"

    @cached_property
    def api(self) -> KubeApi:
        return KubeApi.like(self.kubectl)

    # -- pods and nodes ----------------------------------------------------------------------

    def pods(self, component: str) -> list[dict]:
        return sorted(self.api.items(POD, self.namespace,
                                     f"app.kubernetes.io/instance={self.release},app.kubernetes.io/component={component}"),
                      key=lambda p: p["metadata"]["name"])

    def ready(self, pod: dict) -> bool:
        return condition(pod, "Ready").get("status") == "True" and not pod["metadata"].get("deletionTimestamp")

    def log_warnings(self, component: str, lines: int = 4) -> dict[str, list[str]]:
        """Pod -> the last warning and error lines of its `component` container (etcd and NATS both
        name theirs so): what a member that does not heal says about itself."""
        found = {}
        for pod in self.pods(component):
            name = pod["metadata"]["name"]
            try:
                text = self.api.logs(self.namespace, name, component, tail=500)
            except KubeApiError as err:
                text = str(err)
            found[name] = [line[:240] for line in text.splitlines() if WARNING.search(line)][-lines:]
        return found

    def node_of(self, pod_name: str) -> str:
        return self.api.get(POD, pod_name, self.namespace)["spec"].get("nodeName", "")

    def placement(self) -> dict[str, dict[str, str]]:
        """Component -> pod -> node, for every workload of the release."""
        found: dict[str, dict[str, str]] = {}
        for pod in self.api.items(POD, self.namespace, f"app.kubernetes.io/instance={self.release}"):
            component = pod["metadata"]["labels"].get("app.kubernetes.io/component", "?")
            if pod["metadata"].get("ownerReferences", [{}])[0].get("kind") in ("ReplicaSet", "StatefulSet"):
                found.setdefault(component, {})[pod["metadata"]["name"]] = pod["spec"].get("nodeName", "")
        return found

    def control_plane_address(self) -> str:
        node = self.api.items(NODE, selector="node-role.kubernetes.io/control-plane")[0]
        return next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")

    # -- etcd --------------------------------------------------------------------------------

    def etcdctl(self, pod: str, *args: str, timeout: float = 20) -> str:
        return self.api.exec(self.namespace, pod, "etcd", ["etcdctl", f"--endpoints=http://127.0.0.1:{ETCD_CLIENT_PORT}",
                                                           "--command-timeout=5s", *args], timeout=timeout)

    def etcd_members_seen(self) -> dict[str, list[str]]:
        """Pod -> the started members its own etcd lists ("<unreachable: ...>" if it does not answer)."""
        seen = {}
        for pod in self.pods("etcd"):
            name = pod["metadata"]["name"]
            try:
                members = json.loads(self.etcdctl(name, "member", "list", "-w", "json"))["members"]
                seen[name] = sorted(m.get("name") or "(not started)" for m in members)
            except (KubeApiError, ValueError, KeyError) as err:
                seen[name] = [f"<unreachable: {str(err).strip().splitlines()[-1][:120]}>"]
        return seen

    def etcd_leader(self) -> str:
        """The pod whose member leads, as its own endpoint status says; "" when none answers as leader."""
        for pod in self.pods("etcd"):
            name = pod["metadata"]["name"]
            try:
                status = json.loads(self.etcdctl(name, "endpoint", "status", "-w", "json"))[0]["Status"]
            except (KubeApiError, ValueError, KeyError, IndexError):
                continue
            if status["header"]["member_id"] == status["leader"]:
                return name
        return ""

    def etcd_problems(self, replicas: int) -> list[str]:
        pods = [p["metadata"]["name"] for p in self.pods("etcd")]
        if len(pods) != replicas:
            return [f"etcd: {len(pods)} pods, {replicas} wanted"]
        seen = self.etcd_members_seen()
        return [f"etcd: {pod} lists {members}, not the {replicas} members {pods}"
                for pod, members in seen.items() if members != pods]

    # -- NATS --------------------------------------------------------------------------------

    def nats_monitor(self, pod: str, path: str) -> dict:
        return json.loads(self.api.proxy(self.namespace, pod, NATS_MONITOR_PORT, path))

    def nats_routes(self) -> dict[str, list[str]]:
        """Server -> the other servers it has routes to (2.10 pools several routes per peer: counted once)."""
        routes = {}
        for pod in self.pods("nats"):
            name = pod["metadata"]["name"]
            try:
                routez = self.nats_monitor(name, "routez")
                routes[name] = sorted({r.get("remote_name") or r["remote_id"] for r in routez.get("routes") or []})
            except (KubeApiError, ValueError, KeyError) as err:
                routes[name] = [f"<unreachable: {str(err).strip().splitlines()[-1][:120]}>"]
        return routes

    def nats_problems(self, replicas: int) -> list[str]:
        pods = [p["metadata"]["name"] for p in self.pods("nats")]
        if len(pods) != replicas:
            return [f"nats: {len(pods)} pods, {replicas} wanted"]
        problems = [f"nats: {pod} has routes to {peers}, not to the other {replicas - 1} servers"
                    for pod, peers in self.nats_routes().items() if peers != sorted(set(pods) - {pod})]
        metas = {pod: self.nats_monitor(pod, "jsz").get("meta_cluster", {}) for pod in pods}
        leaders = {pod: meta.get("leader") for pod, meta in metas.items()}
        if len(set(leaders.values())) != 1 or not leaders[pods[0]]:
            return [*problems, f"nats: the servers name JetStream meta leaders {leaders}, not one leader"]
        leader = leaders[pods[0]]
        meta = metas.get(leader, {})  # server names are pod names: only the leader lists the members
        members = sorted({leader, *(r["name"] for r in meta.get("replicas") or [])})
        if members != sorted(pods) or meta.get("cluster_size") != replicas:
            # Seen on kind in 2 of 10 fresh installs with NATS 2.10.26 (none of 12 with 2.11.11): a server
            # follows the leader but was never added, so R3 streams fail "no suitable peers for placement".
            left_out = sorted(set(pods) - set(members))
            problems.append(f"nats: JetStream meta group of size {meta.get('cluster_size')} led by {leader} has members "
                            f"{members}; {left_out} follow(s) it without being a member (deleting that pod made the "
                            f"leader add it)")
        return problems

    # -- spread and PDBs -----------------------------------------------------------------------

    def spread_problems(self) -> list[str]:
        """Every component with more than one replica keeps one through the loss of any node, and
        the quorum components keep a majority."""
        problems = []
        for component, pods in sorted(self.placement().items()):
            if len(pods) < 2:
                continue
            per_node = Counter(pods.values())
            most = max(per_node.values())
            allowed = len(pods) - quorum(len(pods)) if component in QUORUM_COMPONENTS else len(pods) - 1
            if "" in per_node or most > allowed:
                problems.append(f"{component}: {dict(per_node)} pods per node; losing one node may take {most} of "
                                f"{len(pods)}, at most {allowed} keeps {'a quorum' if component in QUORUM_COMPONENTS else 'a replica'}")
        return problems

    def pdb_problems(self, replicas: dict[str, int]) -> list[str]:
        """Component -> replicas: each has a PDB that allows exactly the disruptions its quorum (or,
        for the operator, one replica) survives, and that the disruption controller has counted."""
        pdbs = {p["metadata"]["name"]: p for p in self.api.items(POD_DISRUPTION_BUDGET, self.namespace)}
        problems = []
        for component, count in replicas.items():
            name = f"{self.release}-{'dynamo-operator' if component == 'manager' else component}"
            pdb = pdbs.get(name)
            if pdb is None:
                problems.append(f"no PodDisruptionBudget {name} for {component} ({count} replicas)")
                continue
            keep = quorum(count) if component in QUORUM_COMPONENTS else 1
            status = pdb.get("status", {})
            if pdb["spec"].get("minAvailable") != keep or status.get("disruptionsAllowed") != count - keep:
                problems.append(f"{name}: minAvailable {pdb['spec'].get('minAvailable')}, disruptions allowed "
                                f"{status.get('disruptionsAllowed')}; {keep} and {count - keep} wanted")
        return problems

    def simulated_components(self) -> list[str]:
        """Components whose pods run on kwok nodes (no container: the operator here)."""
        nodes = {n["metadata"]["name"]: n for n in self.api.items(NODE)}
        return sorted({c for c, pods in self.placement().items()
                       for node in pods.values() if node in nodes and simulated(nodes[node])})

    # -- reaching Services from this host: a NodePort on the control-plane node ------------------

    def _node_port(self, name: str, namespace: str, selector: dict[str, str], port: int,
                   target: int | str | None = None) -> int:
        """A NodePort Service `name` onto `target` (a number or a container port's name; `port` by
        default) of the pods `selector` picks (made once; owned by the namespace, so it goes with it)."""
        self.api.apply([{
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "NodePort", "selector": selector,
                     "ports": [{"name": "client", "port": port, "targetPort": target or port}]}}])
        return self.api.get(SERVICE, name, namespace)["spec"]["ports"][0]["nodePort"]

    def reach(self, service: str, namespace: str, port: int) -> str:
        """dataplane.in_cluster.Reach on kind: "host:port" of a NodePort beside `service` (its selector,
        the one port) on the control-plane node, which no fault stops."""
        spec = self.api.get(SERVICE, service, namespace)["spec"]
        target = next((p.get("targetPort", p["port"]) for p in spec["ports"] if p["port"] == port), port)
        node_port = self._node_port(f"{service}-host-{port}", namespace, spec["selector"], port, target)
        address = self.control_plane_address()
        _wait_accepting(address, node_port)
        return f"{address}:{node_port}"

    def urls(self) -> tuple[str, str]:
        """(etcd HTTP gateway URL, NATS URL) from this host."""
        address = self.control_plane_address()
        ports = {component: self._node_port(f"ha-{component}-nodeport", self.namespace,
                                            {"app.kubernetes.io/instance": self.release,
                                             "app.kubernetes.io/component": component}, port)
                 for component, port in (("etcd", ETCD_CLIENT_PORT), ("nats", NATS_CLIENT_PORT))}
        return f"http://{address}:{ports['etcd']}", f"nats://{address}:{ports['nats']}"

    def stream_replicas(self, stream: str, replicas: int) -> dict:
        """Create (idempotently) a file-backed stream of `replicas` replicas and return its cluster
        view: {"leader": server, "replicas": [{"name", "current", "seen_s_ago"}]}."""
        return asyncio.run(_stream_cluster(self.urls()[1], stream, replicas))

    def stream_problems(self, stream: str, replicas: int) -> list[str]:
        view = self.stream_replicas(stream, replicas)
        followers = view["replicas"]
        current = [r for r in followers if r["current"]]
        if not view["leader"] or len(followers) != replicas - 1 or len(current) != replicas - 1:
            return [f"nats: stream {stream} (R{replicas}) has leader {view['leader']!r} and followers {followers}; "
                    f"a leader and {replicas - 1} current followers wanted"]
        return []


def _wait_accepting(host: str, port: int, timeout: float = 60) -> None:
    """Until a new NodePort takes connections: kube-proxy refuses them until its rules name the
    Service's endpoints, a second or so after the Service is made."""
    deadline = time.monotonic() + timeout
    while not accepts(host, port):
        if time.monotonic() > deadline:
            raise ConnectionRefusedError(f"{host}:{port} took no connection in {timeout:.0f} s")
        time.sleep(0.5)


async def _stream_cluster(url: str, stream: str, replicas: int) -> dict:
    import nats
    from nats.js.api import StorageType, StreamConfig

    client = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=2, allow_reconnect=True)
    try:
        js = client.jetstream(timeout=10)
        await js.add_stream(StreamConfig(name=stream, subjects=[f"{stream}.>"], num_replicas=replicas,
                                         storage=StorageType.FILE))
        for _ in range(60):  # a new stream's followers catch up within seconds
            info = await js.stream_info(stream)
            cluster = info.cluster
            followers = [{"name": r.name, "current": bool(r.current), "seen_s_ago": round((r.active or 0) / 1e9, 2)}
                         for r in cluster.replicas or []]  # nats reports `active` in nanoseconds
            if cluster.leader and len(followers) == replicas - 1 and all(f["current"] for f in followers):
                break
            await asyncio.sleep(1)
        return {"leader": cluster.leader or "", "replicas": followers}
    finally:
        await client.close()
