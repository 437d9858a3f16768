"""The local cluster's one real node: containerd + runc, a CNI bridge, kubelet, kube-proxy, CoreDNS,
and a relay that gives its pods the API server (apiserver_relay.py: it listens on loopback only).

It runs next to the kwok GPU pools and takes only the pods that tolerate its taint (the platform's
etcd and NATS in values/local.yaml, the in-cluster data plane, `helm test` hooks). Pods and
Services live on a bridge of their own (POD_CIDR, SERVICE_CIDR routed onto it): nothing is
masqueraded and the FORWARD guard drops any pod packet headed off the bridge. Everything runs
through the Supervisor with state under <cluster state>/node; down() undoes every host change
(see host.py) and `leftovers()` lists what remains.

Only one real node can run per machine (kube-proxy's iptables chains and the `kubepods` cgroups
are machine-wide): OWNER_FILE names the state dir of the node that runs.

containerd's root, the node's image store (IMAGE_STORE: image content, metadata, unpacked layers),
outlives the node, as a kind node image does: down() deletes every container from it and keeps
the images, so a node start imports only the images that changed. A fresh import costs about
13 s, most of it the Dynamo image's 700 MB layer. One node per machine means one containerd at a
time uses it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..kube import REAL_NODE_LABEL, REAL_NODE_TAINT
from ..paths import ROOT, TOOLS_BIN
from ..processes import Supervisor
from . import host
from .pki import Pki

NODE_NAME = "local-node"
BRIDGE = "dynlocal0"
POD_CIDR = "10.222.0.0/24"
NODE_IP = "10.222.0.1"
SERVICE_CIDR = "10.222.128.0/20"
KUBERNETES_SERVICE_IP = "10.222.128.1"  # the `kubernetes` Service takes the range's first address
GUARD_CHAIN = "DYNAMO-NODE-FORWARD"
# Pods opt in to the real node with this toleration and node selector; nothing else lands there.
LABEL = REAL_NODE_LABEL
TAINT = REAL_NODE_TAINT
# Claims of pods on the real node need volumes a container can write: hostPath directories under
# the node's state dir, one per PersistentVolume, pinned to the node (values/local/real-node.yaml).
STORAGE_CLASS = "local-node"
VOLUME_SIZE = "100Gi"
CNI_BIN = Path("/usr/lib/cni")
RUNC = "runc"
COMPONENTS = ("containerd", "kubelet", "kube-proxy", "coredns", "apiserver-relay")
OWNER_FILE = Path("/run/dynamo-local-node.owner")
# Set to "off" to run kwok-only on a machine that could run the node (e.g. while another checkout
# holds it).
SWITCH = "DYNAMO_LOCAL_NODE"
IMAGE_NAMESPACE = "k8s.io"  # containerd namespace the CRI plugin reads images from
SANDBOX_IMAGE = "localhost/dynamo-local/pause:v1"  # built by dynamo_harness/images.py
IMAGE_STORE = ROOT / ".cache" / "images" / "real-node-containerd"


class NodeError(RuntimeError):
    pass


@dataclass
class RealNode:
    state_dir: Path
    bin_dir: Path = TOOLS_BIN
    image_store: Path = IMAGE_STORE

    @property
    def processes(self) -> Supervisor:
        return Supervisor(self.state_dir)

    @property
    def socket(self) -> Path:
        return self.state_dir / "containerd" / "containerd.sock"

    @property
    def kubelet_dir(self) -> Path:
        return self.state_dir / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.state_dir / "pod-logs"

    # -- can it run here? ------------------------------------------------------------------

    def unavailable(self) -> str | None:
        """Why this machine cannot run the real node (one line), or None."""
        if os.environ.get(SWITCH) == "off":
            return f"{SWITCH}=off"
        if os.geteuid() != 0:
            return "not root (containerd and the kubelet need root)"
        tools = {
            "containerd": shutil.which("containerd"), "runc": shutil.which(RUNC),
            "containerd-shim-runc-v2": shutil.which("containerd-shim-runc-v2"),
            "iptables": shutil.which("iptables"), "buildah (images)": shutil.which("buildah"), "CNI bridge plugin": (CNI_BIN / "bridge").exists() or None,
            **{name: (self.bin_dir / name).exists() or None for name in ("kubelet", "kube-proxy", "coredns")},
        }
        if missing := [name for name, found in tools.items() if not found]:
            return f"{', '.join(missing)} missing: run `hack/bootstrap.sh --with-node` as root"
        if not host.CGROUP_ROOT.joinpath("memory").is_dir():
            return "no cgroup v1 memory controller (the kubelet here is set up for cgroupfs on v1)"
        if (owner := self._other_owner()) is not None:
            return f"another local cluster runs the real node ({owner}): take that one down, or set {SWITCH}=off"
        return None

    def _other_owner(self) -> str | None:
        try:
            owner = Path(OWNER_FILE.read_text().strip())
        except OSError:
            return None
        if owner == self.state_dir.resolve() or not Supervisor(owner).alive("containerd"):
            return None
        return str(owner)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, pki: Pki, server: str, admin_kubeconfig: Path) -> None:
        """Start containerd, the kubelet, kube-proxy, CoreDNS (certs from pki.create_node) and the
        API-server relay (it publishes the `kubernetes` Service's endpoint with admin_kubeconfig);
        the caller waits for Ready."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        OWNER_FILE.write_text(str(self.state_dir.resolve()))
        saved = self.state_dir / "sysctls.json"
        if not saved.exists():
            saved.write_text(json.dumps(host.read_sysctls()))
        for user in ("kubelet-client", "kube-proxy", "coredns"):
            (self.state_dir / f"{user}.kubeconfig").write_text(yaml.safe_dump(pki.kubeconfig(server, user)))
        host.create_bridge(BRIDGE, f"{NODE_IP}/24", [SERVICE_CIDR])
        host.guard_forwarding(GUARD_CHAIN, BRIDGE)
        host.write_sysctls({"net/ipv4/ip_forward": "1"})
        self._write_containerd_config()
        self._start_containerd()
        if self._forget_containers():
            # Left by a node that never went down (a killed run): its CRI loaded them at start, so
            # start it again without them, or the kubelet would meet pods of another cluster.
            self.processes.stop(["containerd"])
            self._start_containerd()
        self.processes.start("kubelet", [str(self.bin_dir / "kubelet"), *self._kubelet_args(pki)])
        self.processes.start("kube-proxy", [str(self.bin_dir / "kube-proxy"), *self._kube_proxy_args()])
        self.processes.start("coredns", [str(self.bin_dir / "coredns"), "-conf", str(self._write_corefile())])
        self.processes.start("apiserver-relay", [
            sys.executable, "-m", "dynamo_harness.clusters.apiserver_relay", "--kubeconfig", str(admin_kubeconfig),
            "--listen", NODE_IP, "--apiserver-port", server.rsplit(":", 1)[1]])

    def _start_containerd(self) -> None:
        self.processes.start("containerd", [shutil.which("containerd"), "--config", str(self.state_dir / "containerd.toml")])
        # The kubelet exits at once if the CRI does not answer yet: wait for containerd first.
        self.processes.wait(self._containerd_answers, "containerd", 60, ["containerd"])

    def _containerd_answers(self) -> bool:
        if not self.socket.exists():
            return False
        return self.ctr("version").returncode == 0

    def ctr(self, *args: str) -> subprocess.CompletedProcess:
        """ctr against this node's containerd, in the namespace the CRI uses."""
        return host.run("ctr", "--address", str(self.socket), "--namespace", IMAGE_NAMESPACE, *args, check=False)

    def _forget_containers(self) -> list[str]:
        """Delete every container (pods' and their sandboxes') from the image store, keeping the
        images; returns their ids."""
        containers = self.ctr("containers", "list", "--quiet").stdout.split()
        for container in containers:
            self.ctr("tasks", "delete", "--force", container)
            self.ctr("containers", "delete", container)
        return containers

    def alive(self) -> bool:
        return self.processes.all_alive(list(COMPONENTS))

    def down(self) -> None:
        """Stop everything and undo every host change; safe to call when nothing runs. The host
        state (chains, cgroups, bridge) is machine-wide: while another local cluster runs the real
        node, this one only deletes its own state dir."""
        if self._other_owner() is not None:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            return
        supervisor = self.processes
        supervisor.stop(["kubelet", "coredns", "apiserver-relay"])
        # Containers and their shims outlive containerd: kill them by cgroup and by socket.
        host.kill(host.pod_cgroup_pids() | host.processes_mentioning(str(self.socket)))
        if supervisor.alive("containerd"):
            self._forget_containers()
        supervisor.stop(["containerd", "kube-proxy"])
        if (self.bin_dir / "kube-proxy").exists():
            host.run(str(self.bin_dir / "kube-proxy"), "--cleanup", check=False)
        host.remove_chains()
        host.unmount_all(self.state_dir)
        host.unmount_all(self.image_store)
        host.remove_pod_cgroups()
        host.delete_bridge(BRIDGE)
        for link in host.container_log_links(self.pod_logs):
            link.unlink(missing_ok=True)
        saved = self.state_dir / "sysctls.json"
        if saved.exists():
            host.write_sysctls(json.loads(saved.read_text()))
        if self._owns_machine():
            OWNER_FILE.unlink(missing_ok=True)
        if host.mounts_under(self.state_dir):
            raise NodeError(f"mounts left under {self.state_dir}; not deleting it: {host.mounts_under(self.state_dir)}")
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def _owns_machine(self) -> bool:
        try:
            return Path(OWNER_FILE.read_text().strip()) == self.state_dir.resolve()
        except OSError:
            return False

    def leftovers(self) -> list[str]:
        """Whatever a real node leaves on the host that down() should have removed."""
        found = [f"mount {m}" for m in host.mounts_under(self.state_dir) + host.mounts_under(self.image_store)]
        found += [f"cgroup {c}" for c in host.pod_cgroups()]
        found += [f"bridge {BRIDGE}"] if host.bridge_exists(BRIDGE) else []
        found += [f"{b} {t} chain {c}" for b in host.IPTABLES for t, cs in host.our_chains(b).items() for c in cs]
        found += [f"process {p}" for p in host.processes_mentioning(str(self.state_dir))]
        found += [f"pod cgroup process {p}" for p in host.pod_cgroup_pids()]
        found += [f"log link {p}" for p in host.container_log_links(self.pod_logs)]
        found += [f"netns {p}" for p in Path("/run/netns").glob("cni-*")] if Path("/run/netns").is_dir() else []
        found += [f"state dir {self.state_dir}"] if self.state_dir.exists() else []
        return found

    def log_tails(self) -> str:
        return self.processes.tails(list(COMPONENTS))

    def volumes(self, count: int, existing: list[dict]) -> list[dict]:
        """`count` new PersistentVolumes of STORAGE_CLASS, each a fresh directory on this node. The
        directories of `existing` ones are made again if missing (a node down removes them)."""
        for pv in existing:
            if pv["spec"].get("storageClassName") == STORAGE_CLASS:
                self._volume_dir(Path(pv["spec"]["hostPath"]["path"]))
        made = []
        for _ in range(max(count, 0)):
            name = f"pv-{STORAGE_CLASS}-{uuid.uuid4().hex[:8]}"
            path = self._volume_dir(self.state_dir / "volumes" / name)
            made.append({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": name, "labels": {"dynamo-platform.test/pool": STORAGE_CLASS}},
                "spec": {
                    "storageClassName": STORAGE_CLASS, "capacity": {"storage": VOLUME_SIZE},
                    "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": str(path), "type": "Directory"},
                    "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "kubernetes.io/hostname", "operator": "In", "values": [NODE_NAME]}]}]}},
                },
            })
        return made

    @staticmethod
    def _volume_dir(path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)  # the chart's pods run as non-root UIDs of their own; hostPath has no fsGroup
        return path

    def import_images(self, log) -> None:
        """Build (when missing) and import every local image into the CRI's containerd namespace:
        nothing can be pulled here, so pods run from these only."""
        from .. import images

        images.import_into(str(self.socket), IMAGE_NAMESPACE, log=log)

    # -- configuration ---------------------------------------------------------------------

    def _write_containerd_config(self) -> None:
        base = self.state_dir / "containerd"
        cni_conf = self.state_dir / "cni"
        cni_conf.mkdir(parents=True, exist_ok=True)
        (cni_conf / "10-dynamo-local.conflist").write_text(json.dumps({
            "cniVersion": "1.0.0", "name": "dynamo-local",
            "plugins": [
                {
                    "type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False, "hairpinMode": True,
                    "ipam": {
                        "type": "host-local", "dataDir": str(self.state_dir / "cni-ipam"),
                        "ranges": [[{"subnet": POD_CIDR, "gateway": NODE_IP}]], "routes": [{"dst": "0.0.0.0/0"}],
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        }, indent=2))
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        (self.state_dir / "containerd.toml").write_text(f"""\
version = 2
root = "{self.image_store}"
state = "{base / 'state'}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{self.socket}"
[plugins."io.containerd.internal.v1.opt"]
  path = "{base / 'opt'}"
[{cri}]
  sandbox_image = "{SANDBOX_IMAGE}"
  # Pod sandboxes ask for oomScoreAdj -998; lowering it needs CAP_SYS_RESOURCE, which this VM lacks.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  enable_cdi = false
[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[{cri}.containerd.runtimes.runc.options]
  BinaryName = "{shutil.which(RUNC)}"
  SystemdCgroup = false
[{cri}.cni]
  bin_dir = "{CNI_BIN}"
  conf_dir = "{cni_conf}"
""")

    def _kubelet_args(self, pki: Pki) -> list[str]:
        config = self.state_dir / "kubelet.yaml"
        (self.state_dir / "resolv.conf").write_text("")  # pods get cluster DNS only
        config.write_text(yaml.safe_dump({
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "address": NODE_IP, "port": 10250, "readOnlyPort": 0,
            "healthzBindAddress": NODE_IP, "healthzPort": 10248,
            "tlsCertFile": str(pki.cert("kubelet")), "tlsPrivateKeyFile": str(pki.key("kubelet")),
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                               "x509": {"clientCAFile": str(pki.ca)}},
            "authorization": {"mode": "Webhook"},
            "containerRuntimeEndpoint": f"unix://{self.socket}",
            # This VM: cgroup v1 (hybrid), swap allowed, no systemd.
            "cgroupDriver": "cgroupfs", "failCgroupV1": False, "failSwapOn": False,
            "clusterDNS": [NODE_IP], "clusterDomain": "cluster.local",
            "resolvConf": str(self.state_dir / "resolv.conf"),
            "podLogsDir": str(self.pod_logs),
            "volumePluginDir": str(self.state_dir / "volume-plugins"),
            "registerWithTaints": [TAINT],
            "maxPods": 40,
            # Other sessions share this machine's memory and disk: evict only when nearly out.
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "serializeImagePulls": False,
        }))
        return [
            f"--config={config}", f"--kubeconfig={self.state_dir / 'kubelet-client.kubeconfig'}",
            f"--root-dir={self.kubelet_dir}", f"--cert-dir={self.state_dir / 'kubelet-pki'}",
            f"--node-ip={NODE_IP}", f"--hostname-override={NODE_NAME}",
            "--node-labels=" + ",".join(f"{k}={v}" for k, v in LABEL.items()),
            "-v=1",
        ]

    def _kube_proxy_args(self) -> list[str]:
        return [
            f"--kubeconfig={self.state_dir / 'kube-proxy.kubeconfig'}", f"--hostname-override={NODE_NAME}",
            "--proxy-mode=iptables", f"--cluster-cidr={POD_CIDR}", f"--nodeport-addresses={POD_CIDR}",
            f"--healthz-bind-address={NODE_IP}:10256", f"--metrics-bind-address={NODE_IP}:10249",
            # Leave conntrack sysctls and this process's OOM score as they are (no CAP_SYS_RESOURCE).
            "--conntrack-max-per-core=0", "--conntrack-tcp-timeout-established=0",
            "--conntrack-tcp-timeout-close-wait=0", "--oom-score-adj=0",
        ]

    def _write_corefile(self) -> Path:
        corefile = self.state_dir / "Corefile"
        corefile.write_text(f"""\
.:53 {{
    bind {NODE_IP}
    errors
    health {NODE_IP}:8080
    ready {NODE_IP}:8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {self.state_dir / 'coredns.kubeconfig'} local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 30
}}
""")
        return corefile


def rbac() -> list[dict]:
    """CoreDNS's read access (upstream's system:coredns role); kube-proxy and the kubelet use the
    built-in system:node-proxier binding and the Node authorizer."""
    rules = [
        {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"], "verbs": ["list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
    ]
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:coredns"}, "rules": rules},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "system:coredns"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:coredns"}],
        },
    ]


def say_fallback(reason: str) -> None:
    print(f"local cluster: no real node ({reason}); running kwok-only", file=sys.stderr)
