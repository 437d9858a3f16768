"""Node faults on the kind cluster, under the acknowledged-write load of writes.py.

Each fault is dataplane's `Fault` (what to inject, how long to keep it) plus a repair, and
the pods are watched through its `Observed` shape (PodsObserved), so a restart is named with the
reason its container status gives. The load is etcd puts and JetStream publishes, and, where a
frontend serves (serving.py), streaming chat completions through it; every request is counted. One
run:

    healthy | load on | inject -> hold window_s | repair -> healthy again | load off | read back

A kind node is a container of the private dockerd: `docker kill` is a hard loss, `docker pause`
a partition (the node's processes freeze, its peers see silence), `kubectl drain` and the spot
eviction go through the API as the clouds do. Figures: writes sent/acknowledged/failed, lost
(acknowledged, not read back), the longest gap between acknowledgements, seconds from repair to
healthy, and the pods that restarted or were recreated, with why.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from ..clusters.dockerd import Dockerd
from ..dataplane import Fault
from ..dataplane.in_cluster import ClusterDataPlane
from ..kube import KubectlError, condition, simulated, wait_for
from ..kube_api import NODE, POD, KubeApiError
from .serving import InferenceLoad
from .shape import HaRelease, quorum
from .writes import AckedWrites

HEALTHY_TIMEOUT_S = 360
WARMUP_S = 3.0
SETTLE_S = 3.0  # load kept on after the release is healthy again: writes must succeed there
SPOT_EVICTION_TAINT = {"key": "dynamo-platform.test/spot-eviction", "value": "true", "effect": "NoExecute"}
SPOT_LABEL = "kubernetes.azure.com/scalesetpriority=spot"
SPOT_NOTICE_S = 10  # AKS gives a spot VM 30 s notice; pods here get a shorter grace


@dataclass
class NodeFault:
    fault: Fault
    repair: Callable[[], None]
    nodes: list[str]  # the nodes it hits
    members: dict[str, list[str]]  # component -> its pods on those nodes
    replicas: dict[str, int]
    notes: list[str] = field(default_factory=list)  # what the injection observed, in words

    @property
    def quorum_kept(self) -> dict[str, bool]:
        return {c: n - len(self.members.get(c, [])) >= quorum(n) for c, n in self.replicas.items()}


class PodsObserved:
    """dataplane.Observed for the release's etcd and NATS pods, and the frontend and worker pods of
    a serving plane where one runs: one component per pod."""

    def __init__(self, ha: HaRelease, plane: ClusterDataPlane | None = None):
        self.ha, self.plane = ha, plane

    def _pods(self) -> list[dict]:
        return self.ha.pods("etcd") + self.ha.pods("nats") + (self.plane.pods() if self.plane else [])

    def instances(self) -> dict[str, str]:
        found = {}
        for pod in self._pods():
            restarts = sum(s.get("restartCount", 0) for s in pod.get("status", {}).get("containerStatuses", []))
            found[pod["metadata"]["name"]] = (f"pod {pod['metadata']['name']} (uid {pod['metadata']['uid'][:8]}, "
                                              f"restarts {restarts}) on {pod['spec'].get('nodeName', '-')}")
        return found

    def exit_reason(self, component: str) -> str:
        for pod in self._pods():
            if pod["metadata"]["name"] != component:
                continue
            for status in pod.get("status", {}).get("containerStatuses", []):
                if ended := status.get("lastState", {}).get("terminated"):
                    return f"{ended.get('reason', '?')} (exit {ended.get('exitCode')})"
        return ""


class NodeFaults:
    """The faults of issue 21 item 4, aimed at the nodes that hold etcd and NATS members."""

    def __init__(self, ha: HaRelease, engine: Dockerd, replicas: dict[str, int]):
        self.ha, self.engine, self.replicas = ha, engine, replicas

    # -- where the members are -----------------------------------------------------------------

    def members_on(self, nodes: list[str]) -> dict[str, list[str]]:
        return {c: [p["metadata"]["name"] for p in self.ha.pods(c) if p["spec"].get("nodeName") in nodes]
                for c in self.replicas}

    def targets(self, index: int, prefer_label: str = "") -> list[str]:
        """The nodes one fault hits so that etcd and NATS each lose one member: a node that holds
        both (the `index`-th such), else the node of etcd member `index` and that of NATS server
        `index`. With prefer_label, only nodes with that label (the spot pool), if any hold members."""
        etcd = [p["spec"]["nodeName"] for p in self.ha.pods("etcd")]
        nats = [p["spec"]["nodeName"] for p in self.ha.pods("nats")]
        if prefer_label:
            labelled = {n["metadata"]["name"] for n in self.ha.api.items(NODE, selector=prefer_label)}
            etcd, nats = ([n for n in etcd if n in labelled] or etcd), [n for n in nats if n in labelled]
        if both := [n for n in etcd if n in nats]:
            return [both[index % len(both)]]
        return [etcd[index % len(etcd)]] + ([nats[index % len(nats)]] if nats else [])

    def _make(self, component: str, action: str, inject: Callable[[], None], repair: Callable[[], None],
              nodes: list[str], window_s: float, why: str) -> NodeFault:
        members = self.members_on(nodes)
        fault = Fault(component, action, inject, window_s, why)
        return NodeFault(fault, repair, nodes, members, self.replicas)

    # -- the faults ------------------------------------------------------------------------------

    def drain(self) -> NodeFault:
        """a. `kubectl drain` of the nodes of one etcd and one NATS member (one node where it holds
        both): the PDBs let them go. Then a drain of each quorum's next member's node: the PDBs
        must make it wait (each quorum already runs on two)."""
        first = self.targets(0)
        second = [next(p["spec"]["nodeName"] for p in self.ha.pods(c) if p["spec"]["nodeName"] not in first)
                  for c in self.replicas]
        made: NodeFault

        def inject() -> None:
            for node in first:
                self._drain(node, timeout_s=180)
            for component, node in zip(self.replicas, second):
                try:
                    self._drain(node, timeout_s=20)
                    made.notes.append(f"the drain of {node} ({component}'s next member) went through: its PDB did not hold")
                except KubectlError as err:
                    blocked = "disruption budget" in err.stderr
                    made.notes.append(f"the drain of {node} ({component}'s next member) "
                                      f"{'waited on the PDB' if blocked else 'failed'}: {_last_line(err.stderr, 'disruption budget')}")
                    if not blocked:
                        raise

        def repair() -> None:
            for node in {*first, *second}:
                self.ha.kubectl.run("uncordon", node)

        made = self._make("node", "drain", inject, repair, first, 20,
                          "a drained member's pod stays Pending while its node is cordoned (its volume is local "
                          "to that node): each quorum runs on two members this long")
        return made

    def _drain(self, node: str, timeout_s: int) -> None:
        self.ha.kubectl.run("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                            f"--timeout={timeout_s}s", timeout=timeout_s + 30)

    def spot_eviction(self) -> NodeFault:
        """b. As AKS evicts a spot VM: taint (NoExecute: pods go, PDBs are not asked), a short grace,
        the node stopped and its Node object deleted. Repair: the VM comes back under the same name
        and rejoins with its pool's taints."""
        nodes = self._spot_targets()
        specs = {node: self.ha.api.get(NODE, node)["spec"] for node in nodes}

        def inject() -> None:
            for node in nodes:
                self.ha.api.patch(NODE, node, {"spec": {"taints": [*specs[node].get("taints", []), SPOT_EVICTION_TAINT]}})
            time.sleep(SPOT_NOTICE_S)
            for node in nodes:
                self.engine.docker("kill", node)
                self.ha.api.delete(NODE, node)

        def repair() -> None:
            for node in nodes:  # all at once: a member waiting on a node still down would hold up the next step
                self.engine.docker("start", node)
            for node in nodes:
                wait_for(lambda: _node_ready(self.ha, node), f"{node} Ready", 240, 2)
                # The harness gave each kind node its pod range (clusters/kind.py); a re-registered Node
                # has none, and the other nodes then route nothing to its pods (seen: pods placed there
                # after the eviction could not reach NATS until the range was set again). Its taints
                # kubeadm set at join; a re-registered kubelet does not.
                returned = {"taints": specs[node]["taints"]} if specs[node].get("taints") else {}
                if pod_ranges := specs[node].get("podCIDRs"):
                    returned.update(podCIDR=pod_ranges[0], podCIDRs=pod_ranges)
                if returned:
                    self.ha.api.patch(NODE, node, {"spec": returned})
            for node in nodes:
                self._renumber_stale_pods(node)

        return self._make("node", "spot-eviction", inject, repair, nodes, 30,
                          "the evicted node stays gone this long; its members' volumes are local to it, so "
                          "they come back only with it (on AKS a zonal disk re-attaches in its zone)")

    def _spot_targets(self) -> list[str]:
        """What an eviction hits: the spot nodes that hold etcd or NATS members, where an overlay puts
        them there; else one spot node, the one running a Dynamo worker where one does (aks-spot
        keeps its quorums off spot: the eviction must leave them whole); with no spot pool (gke,
        eks-efa), the nodes of one etcd and one NATS member."""
        spot = [n["metadata"]["name"] for n in self.ha.api.items(NODE, selector=SPOT_LABEL) if not simulated(n)]
        members = {p["spec"].get("nodeName") for c in self.replicas for p in self.ha.pods(c)}
        if not spot or members & set(spot):
            return self.targets(1, prefer_label=SPOT_LABEL)
        workers = {p["spec"].get("nodeName") for p in self.ha.api.items(
            POD, self.ha.namespace, "nvidia.com/dynamo-component-type=worker")}
        return [next((n for n in spot if n in workers), spot[0])]

    def _renumber_stale_pods(self, node: str, timeout: float = 120) -> None:
        """A kind artifact, not a cloud's: the returning node is the old container, and the API gives
        the re-registered Node a new pod range. Pods it starts before kind-cni rewrites the node's
        CNI config get an address in the old range, which no other node routes to any more. They
        are deleted (their controller makes them again) until every pod there is in the new range.
        A cloud's replacement VM boots without the old config."""
        import ipaddress

        def settled() -> bool:
            cidr = ipaddress.ip_network(self.ha.api.get(NODE, node)["spec"].get("podCIDR") or "0.0.0.0/0")
            pods = [p for p in self.ha.api.items(POD, self.ha.namespace) if p["status"].get("phase") in ("Pending", "Running")]
            stale = [p["metadata"]["name"] for p in pods if p["spec"].get("nodeName") == node
                     and p["status"].get("podIP") and ipaddress.ip_address(p["status"]["podIP"]) not in cidr]
            for pod in stale:
                self.ha.api.delete(POD, pod, self.ha.namespace)
            # Until every member has an address: one still Pending may yet start there, stale.
            return not stale and all(p["status"].get("podIP") for p in pods)

        wait_for(settled, f"pods on {node} in its new pod range", timeout, 3)

    def hard_loss(self) -> NodeFault:
        """c. The node's container killed (SIGKILL): no goodbye, the API learns it from missed heartbeats."""
        nodes = self.targets(1)
        return self._make("node", "hard-loss", lambda: [self.engine.docker("kill", n) for n in nodes],
                          lambda: [self._start(n) for n in nodes], nodes, 60,
                          "past the node controller's grace period (40-50 s), so the node goes NotReady and "
                          "its pods leave the Services' endpoints before it returns")

    def partition(self) -> NodeFault:
        """d. The node frozen (`docker pause`): its members stop answering without their peers seeing a
        connection close, as behind a dropped link."""
        nodes = self.targets(2)
        return self._make("node", "partition", lambda: [self.engine.docker("pause", n) for n in nodes],
                          lambda: [self.engine.docker("unpause", n) for n in nodes], nodes, 30,
                          "longer than etcd's election timeout and NATS's route ping, so both act on it")

    def leader_loss(self, component: str) -> NodeFault:
        """e. The etcd leader, or the test stream's NATS leader, killed (SIGKILL in its node); the
        kubelet restarts the container."""
        if component == "etcd":
            pod = self.ha.etcd_leader()
            process = "etcd"
        else:
            pod = self.ha.stream_replicas(STREAM, self.replicas["nats"])["leader"]
            process = "nats-server"
        if not pod:
            raise RuntimeError(f"no {component} leader found")
        node = self.ha.node_of(pod)
        fault = self._make(f"{component}-leader", "kill",
                           lambda: self.engine.docker("exec", node, "pkill", "-9", "-x", process),
                           lambda: None, [node], 20, "the new leader's election and the old one's restart")
        fault.members = {c: [pod] if c == component else [] for c in self.replicas}
        fault.notes.append(f"leader {pod} on {node}")
        return fault

    def two_of_three(self) -> NodeFault:
        """The nodes of two etcd members and two NATS servers killed: both quorums are gone; writes
        must fail clearly, then resume after the repair with nothing acknowledged lost."""
        nodes = sorted({n for index in (0, 1) for n in self.targets(index)})
        return self._make("node", "two-of-three", lambda: [self.engine.docker("kill", n) for n in nodes],
                          lambda: [self._start(n) for n in nodes], nodes, 30,
                          "long enough to show the outage; the quorum is gone until the repair")

    def _start(self, node: str) -> None:
        self.engine.docker("start", node)
        wait_for(lambda: _node_ready(self.ha, node), f"{node} Ready", 240, 2)


STREAM = "HA"


def _node_ready(ha: HaRelease, node: str) -> bool:
    try:
        return condition(ha.api.get(NODE, node), "Ready").get("status") == "True"
    except KubeApiError:
        return False


def _last_line(text: str, needle: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in reversed(lines) if needle in line), lines[-1] if lines else "")[:200]


# -- one run -------------------------------------------------------------------------------------

def healthy(ha: HaRelease, replicas: dict[str, int]) -> list[str]:
    """[] when every member is Ready, etcd lists all members from each, NATS routes are up and the
    test stream has a leader and current followers; else what is not yet so."""
    try:
        for component, count in replicas.items():
            pods = ha.pods(component)
            if len([p for p in pods if ha.ready(p)]) != count:
                return [f"{component}: {len([p for p in pods if ha.ready(p)])}/{count} Ready"]
        return (ha.etcd_problems(replicas["etcd"]) + ha.nats_problems(replicas["nats"])
                + ha.stream_problems(STREAM, replicas["nats"]))
    except Exception as err:  # noqa: BLE001 - not healthy yet, and why
        return [f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:160] if str(err).strip() else ''}"]


def settled(problems_now: Callable[[], list[str]], timeout: float) -> list[str]:
    """[] once `problems_now()` is, asked every 2 s; else its last answer after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (problems := problems_now()) and time.monotonic() < deadline:
        time.sleep(2)
    return problems


def wait_healthy(ha: HaRelease, replicas: dict[str, int], timeout: float = HEALTHY_TIMEOUT_S) -> float:
    """Seconds until healthy(); TimeoutError naming what is still wrong."""
    started = time.monotonic()
    if last := settled(lambda: healthy(ha, replicas), timeout):
        raise TimeoutError(f"not healthy {timeout:.0f} s after the repair: {'; '.join(last)}")
    return time.monotonic() - started


def run(ha: HaRelease, made: NodeFault, urls: tuple[str, str], plane: ClusterDataPlane | None = None) -> dict:
    """Inject `made` under load (writes, and inference through `plane`'s frontend where given),
    repair, wait healthy, read back; the figures and a verdict."""
    replicas = made.replicas
    wait_healthy(ha, replicas)
    if plane:
        plane.wait_serving(HEALTHY_TIMEOUT_S)
    observed = PodsObserved(ha, plane)
    before = observed.instances()
    writes = AckedWrites(*urls, stream=STREAM, run_id=f"{made.fault.action}-{uuid.uuid4().hex[:6]}")
    inference = InferenceLoad(plane.frontend_url, plane.model) if plane else None
    writes.start()
    if inference:
        inference.start()
    time.sleep(WARMUP_S)
    injected = time.monotonic()
    injected_perf = time.perf_counter()  # the inference samples' clock
    problems: list[str] = []
    unhealed: dict[str, dict[str, list[str]]] = {}  # component -> pod -> its last warnings, if the repair did not heal
    recovery_s = serving_s = None
    try:
        made.fault.inject()
        time.sleep(made.fault.window_s)
        repaired = time.monotonic()
        made.repair()
        wait_healthy(ha, replicas)
        recovery_s = round(time.monotonic() - repaired, 1)
        if plane:
            plane.wait_serving(HEALTHY_TIMEOUT_S)
            serving_s = round(time.monotonic() - repaired, 1)
        time.sleep(SETTLE_S)
    except Exception as err:  # noqa: BLE001 - the verdict says it
        problems.append(f"{type(err).__name__}: {str(err).strip()[:300]}")
        unhealed = {component: ha.log_warnings(component) for component in replicas}
        try:
            made.repair()
        except Exception:  # noqa: BLE001 - already repaired, or the first problem says why
            pass
    finally:
        writes.stop()
        if inference:
            inference.stop()
    try:
        figures = writes.reckon()
    except Exception as err:  # noqa: BLE001 - a read-back that cannot finish proves nothing: a failure
        problems.append(f"read-back failed, nothing proven about lost writes: {type(err).__name__}: {err}")
        figures = writes.figures()
    after = observed.instances()
    restarted = {pod: {"was": was, "now": after.get(pod, "gone"), "why": observed.exit_reason(pod) or
                       ("recreated: new pod" if pod in after else "gone")}
                 for pod, was in before.items() if after.get(pod) != was}
    kept = made.quorum_kept
    for service, component in (("etcd", "etcd"), ("jetstream", "nats")):
        stats = figures[service]
        if stats["lost"]:
            problems.append(f"{service}: {stats['lost']} acknowledged writes lost (e.g. {stats['lost_examples']})")
        if not kept[component] and not stats["failed"]:
            problems.append(f"{service}: its quorum was gone, yet no write failed")
        if not stats["acked"]:
            problems.append(f"{service}: no write was acknowledged at all")
    requests = None
    if inference:
        requests = inference.figures(since=injected_perf)  # failures in s after the fault
        if unaccounted := requests["sent"] - requests["ok"] - requests["failed"]:
            problems.append(f"inference: {unaccounted} requests neither completed nor failed")
    return {"fault": made.fault.name, "nodes": made.nodes, "members_hit": made.members, "quorum_kept": kept,
            "window_s": made.fault.window_s, "window_reason": made.fault.window_reason,
            "recovery_s": recovery_s, "serving_again_s": serving_s, "writes": figures, "requests": requests,
            "restarted": restarted, "notes": made.notes, "member_warnings": unhealed,
            "injected_at_s": round(injected - writes.started_at, 2), "problems": problems, "ok": not problems}
