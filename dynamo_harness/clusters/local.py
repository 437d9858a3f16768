"""The `local` cluster: a real Kubernetes control plane run as processes on 127.0.0.1.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler are the real binaries (built by
`hack/bootstrap.sh --with-control-plane`); kwok simulates the nodes of node_pools.py and the pods on
them (scheduled pods become Running and Ready; no container runs). Where the machine can run
containers, one real node (real_node.py: containerd, kubelet, kube-proxy, CoreDNS) joins them;
`node_mode` says which mode ran. The control plane listens on 127.0.0.1 only, and each
component logs to <state>/logs/<component>.log.

`up()` is idempotent: a healthy cluster from an earlier run is reused as is.
"""

from __future__ import annotations

import fcntl
import sys
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..results import Outcome, ProbeResult, passed, skipped, timed
from ..kube import Kubectl, condition
from ..kube_api import NODE, PERSISTENT_VOLUME, SERVICE_ACCOUNT, KubeApi, KubeApiError
from ..paths import ROOT, TOOLS_BIN
from ..processes import ProcessError, Supervisor, answers
from . import real_node
from . import node_pools, storage
from .pki import Pki

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
# kwok-only: loopback ranges for ClusterIPs and pod IPs, so whatever dials them (the API server
# calling a webhook Service) stays on this machine and is refused at once. With the real node,
# Services take the range routed onto its bridge (node.SERVICE_CIDR), so pods can reach them.
KWOK_SERVICE_CIDR = "127.96.0.0/16"
POD_CIDR = "127.100.0.1/16"
REAL_NODE = "real"
KWOK_ONLY_BY_CHOICE = "started without the real node (with_real_node=False), to run beside a cluster that has it"


class ClusterError(RuntimeError):
    pass


@dataclass
class LocalCluster:
    state_dir: Path = ROOT / ".cache" / "local-cluster"
    bin_dir: Path = TOOLS_BIN
    ports: dict[str, int] = field(default_factory=dict)
    # False: kwok-only by choice, never touching the machine-wide real node, so this cluster runs
    # beside one that has it (`make test` runs the install tests that need no real node so).
    with_real_node: bool = True

    name = "local"
    simulates_operator = True  # kwok simulates every pod but the real node's

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def processes(self) -> Supervisor:
        return Supervisor(self.state_dir)

    @property
    def pki(self) -> Pki:
        return Pki(self.state_dir / "pki")

    def missing_binaries(self) -> list[str]:
        return [c for c in COMPONENTS if not (self.bin_dir / c).exists()]

    def unavailable(self) -> str | None:
        if missing := self.missing_binaries():
            return f"{missing} not built: run `hack/bootstrap.sh --with-control-plane` (make test does)"
        return None

    @property
    def node(self) -> real_node.RealNode:
        return real_node.RealNode(self.state_dir / "node", self.bin_dir)

    @property
    def node_mode(self) -> str:
        """REAL_NODE, or the one-line reason this cluster runs kwok-only (set by up())."""
        try:
            return (self.state_dir / "node-mode").read_text().strip()
        except OSError:
            return "not started"

    @property
    def real_node(self) -> bool:
        return self.node_mode == REAL_NODE

    def node_report(self) -> list[ProbeResult]:
        """The report's line on which mode ran: the real node and its runtime, or why kwok-only."""
        if not self.real_node:
            return [timed("cluster/real-node", lambda: skipped(f"kwok-only: {self.node_mode}"))]

        def running() -> Outcome:
            info = self.api.get(NODE, real_node.NODE_NAME)["status"]["nodeInfo"]
            return passed(f"{real_node.NODE_NAME}: kubelet {info['kubeletVersion']}, {info['containerRuntimeVersion']}")

        return [timed("cluster/real-node", running)]

    @property
    def service_cidr(self) -> str:
        return real_node.SERVICE_CIDR if self.real_node else KWOK_SERVICE_CIDR

    def prepare_install(self) -> None:
        self.ensure_volumes()

    def install_values(self) -> dict:
        return {}

    @property
    def webhook_standin_address(self) -> str | None:
        """Where a webhook stand-in listens so the API server reaches it: the real node's address,
        else (kwok-only) the Service's ClusterIP itself (conversion_standin.py)."""
        return real_node.NODE_IP if self.real_node else None

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, timeout: float = 120) -> bool:
        """Start the cluster unless a healthy one is running. Returns True if it started one."""
        if reason := self.unavailable():
            raise ClusterError(reason)
        # One starter at a time: a second caller waits, then finds the cluster healthy.
        self.state_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.state_dir.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.healthy():
                return False
            self._start_all(timeout)
            return True

    def _start_all(self, timeout: float) -> None:
        self.down()
        self.state_dir.mkdir(parents=True)
        # Pods on the real node reach the API server at the `kubernetes` Service's first IP.
        self.pki.create(service_ips=(real_node.KUBERNETES_SERVICE_IP,))
        self.pki.create_node(real_node.NODE_NAME, real_node.NODE_IP)
        reason = self.node.unavailable() if self.with_real_node else KWOK_ONLY_BY_CHOICE
        (self.state_dir / "node-mode").write_text(reason or REAL_NODE)
        if reason:
            real_node.say_fallback(reason)
        self.ports = self.processes.save_ports(["etcd-client", "etcd-peer", "apiserver", "kwok"])
        self._write_kubeconfig()
        self._start("etcd", self._etcd_args())
        self._wait(lambda: answers(f"http://127.0.0.1:{self.ports['etcd-client']}/health"), "etcd", timeout)
        self._start("kube-apiserver", self._apiserver_args())
        self._wait(self._api_ready, "kube-apiserver", timeout)
        self._start("kube-controller-manager", self._controller_manager_args())
        self._start("kube-scheduler", self._scheduler_args())
        self._start("kwok", self._kwok_args())
        api = self.api
        api.apply(node_pools.all_nodes() + storage.storage_classes())
        self.ensure_volumes()
        self._wait(lambda: self._nodes_ready(api), "kwok nodes Ready", timeout)
        self._wait(lambda: self._has_default_service_account(api, "default"), "service account controller", timeout)
        if self.real_node:
            self.start_node(timeout)

    def start_node(self, timeout: float = 120) -> None:
        """Start the real node and wait until it is Ready (up() does; so can a test after
        `node.down()`)."""
        node, api = self.node, self.api
        api.apply(real_node.rbac() + storage.storage_classes((real_node.STORAGE_CLASS,)))
        started = datetime.now(timezone.utc).replace(microsecond=0)
        node.start(self.pki, f"https://127.0.0.1:{self.ports['apiserver']}", self.kubeconfig)
        node.import_images(log=lambda line: print(f"local node: {line}", file=sys.stderr))
        # Ready as reported by this kubelet: a Node object left from before a restart says Ready too.
        self._wait(lambda: self._real_node_ready(api, since=started), f"node {real_node.NODE_NAME} Ready", timeout)
        self.ensure_volumes()

    def down(self) -> None:
        """Stop every component this state dir started, undo the real node's host changes and
        delete the state."""
        if self.with_real_node:
            self.node.down()
        self.processes.remove(list(COMPONENTS))

    def healthy(self) -> bool:
        self.ports = self.processes.saved_ports() or {}
        node_ok = not self.real_node or self.node.alive()
        return bool(self.ports) and self.processes.all_alive(list(COMPONENTS)) and node_ok and self._api_ready()

    def log_tails(self) -> str:
        """The end of every component's log, for a failing test's report."""
        return self.processes.tails(list(COMPONENTS)) + ("\n" + self.node.log_tails() if self.real_node else "")

    # -- helpers used by the provider and the tests ----------------------------------------

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.kubeconfig)

    @property
    def api(self) -> KubeApi:
        """A client of this cluster's API (a new one each time: `up()` after `down()` makes new certificates)."""
        return KubeApi(self.kubeconfig)

    def ensure_volumes(self, per_class: int = 8) -> None:
        """Keep `per_class` Available PVs in every StorageClass (bound ones stay retained)."""
        api = self.api
        pvs = api.items(PERSISTENT_VOLUME)
        phases = [(pv["spec"]["storageClassName"], pv["status"].get("phase")) for pv in pvs]
        available = [cls for cls, phase in phases if phase == "Available"]
        missing = [pv for c in storage.CLASSES for pv in storage.volumes(c, per_class - available.count(c))]
        if self.real_node:
            missing += self.node.volumes(per_class - available.count(real_node.STORAGE_CLASS), pvs)
        if missing:
            api.apply(missing)

    # -- components ------------------------------------------------------------------------

    def _start(self, name: str, args: list[str]) -> None:
        self.processes.start(name, [str(self.bin_dir / name), *args])

    def _wait(self, ready, what: str, timeout: float) -> None:
        try:
            self.processes.wait(ready, what, timeout, list(COMPONENTS))
            if self.real_node:
                self.node.processes.wait(ready, what, timeout, list(real_node.COMPONENTS))
        except ProcessError as err:
            raise ClusterError(str(err)) from None

    def _etcd_args(self) -> list[str]:
        client, peer = (f"http://127.0.0.1:{self.ports[p]}" for p in ("etcd-client", "etcd-peer"))
        return [
            "--name=local", f"--data-dir={self.state_dir / 'etcd'}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=local={peer}",
            "--unsafe-no-fsync",  # a throwaway test store: trade durability for speed
        ]

    def _apiserver_args(self) -> list[str]:
        pki = self.pki
        return [
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={self.ports['apiserver']}",
            f"--etcd-servers=http://127.0.0.1:{self.ports['etcd-client']}",
            f"--tls-cert-file={pki.cert('apiserver')}", f"--tls-private-key-file={pki.key('apiserver')}",
            f"--client-ca-file={pki.ca}",
            f"--service-account-key-file={pki.dir / 'service-account.pub'}",
            f"--service-account-signing-key-file={pki.key('service-account')}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={self.service_cidr}",
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",  # the snapshot agent is privileged by design
            "--endpoint-reconciler-type=none",  # no "kubernetes" endpoint on loopback
            # logs, exec and port-forward: dial the real node by its bridge IP, as a client it trusts.
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-client-certificate={pki.cert('apiserver-kubelet-client')}",
            f"--kubelet-client-key={pki.key('apiserver-kubelet-client')}",
        ]

    def _controller_manager_args(self) -> list[str]:
        return [
            f"--kubeconfig={self.kubeconfig}", "--secure-port=0", "--leader-elect=false",
            f"--service-account-private-key-file={self.pki.key('service-account')}",
            f"--root-ca-file={self.pki.ca}", "--use-service-account-credentials=false",
            f"--service-cluster-ip-range={self.service_cidr}",
        ]

    def _scheduler_args(self) -> list[str]:
        return [f"--kubeconfig={self.kubeconfig}", "--secure-port=0", "--leader-elect=false"]

    def _kwok_args(self) -> list[str]:
        config = self.state_dir / "kwok.yaml"
        config.write_text("apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions: {}\n")
        return [
            f"--kubeconfig={self.kubeconfig}", f"--config={config}",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            f"--server-address=127.0.0.1:{self.ports['kwok']}",
            "--node-ip=127.0.0.1",
            f"--cidr={POD_CIDR}",
            "-v=WARN",
            # Renew node Leases, or the node lifecycle controller taints every node unreachable.
            "--node-lease-duration-seconds=40",
        ]

    def _write_kubeconfig(self) -> None:
        self.kubeconfig.write_text(yaml.safe_dump(self.pki.kubeconfig(f"https://127.0.0.1:{self.ports['apiserver']}", "admin")))

    def _api_ready(self) -> bool:
        return answers(f"https://127.0.0.1:{self.ports['apiserver']}/readyz", verify=str(self.pki.ca),
                       cert=(str(self.pki.cert("admin")), str(self.pki.key("admin"))))

    def _nodes_ready(self, api: KubeApi) -> bool:
        ready = [condition(node, "Ready").get("status") for node in api.items(NODE)]
        return len(ready) == len(node_pools.all_nodes()) and set(ready) == {"True"}

    def _real_node_ready(self, api: KubeApi, since: datetime) -> bool:
        try:
            ready = condition(api.get(NODE, real_node.NODE_NAME), "Ready")
        except KubeApiError:
            return False
        heartbeat = datetime.fromisoformat(ready.get("lastHeartbeatTime", "1970-01-01T00:00:00Z").replace("Z", "+00:00"))
        return ready.get("status") == "True" and heartbeat >= since

    @staticmethod
    def _has_default_service_account(api: KubeApi, namespace: str) -> bool:
        try:
            api.get(SERVICE_ACCOUNT, "default", namespace)
        except KubeApiError:
            return False
        return True

