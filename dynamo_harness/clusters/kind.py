"""The `kind` provider: a throwaway kind cluster of real nodes (containers of a private dockerd).

Everything is local: the private dockerd (dockerd.py) runs the nodes, and the node image is built
here from pinned sources (kind_node_image.py). One control plane and workers labelled and tainted like
the clouds' node pools, from the pool table the kwok nodes use (node_pools.py KIND_LAYOUTS: three
system workers and three AKS spot workers by default, three workers per single cloud). down()
deletes the cluster and stops the engine, undoing its host changes.

What runs where: every platform pod runs for real on the workers, from the images built here
(images.py: etcd, NATS, the `helm test` probes), except the operator. No operator image can be
built on this machine, so, as on the local provider, kwok simulates it: a kwok controller on the
host registers the pools of node_pools.py as simulated nodes, each with SIMULATED_TAINT, which only the
operator's pods tolerate (values/local/kind-images.yaml, which install_values() adds to every install).
Those nodes also stand for the GPU pools, where a GPU is needed. Their pods get loopback addresses
(SIMULATED_POD_RANGE), which the API server refuses in an EndpointSlice: no Service ever routes to a
pod that is not there, so the operator's webhook Service reaches only a test's conversion stand-in.
So the harness, not the controller-manager, gives every node its pod range (POD_RANGE for the real
ones): the controller-manager's allocator would stop at a range outside the cluster's on its next
start, and take the cluster down with it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

import yaml

from .. import images
from ..kube import KWOK_NODE_ANNOTATION, Kubectl, condition, wait_for
from ..kube_api import NODE, KubeApi
from ..paths import OVERLAYS, ROOT, TOOLS_BIN
from ..processes import Supervisor
from ..helm_release import NO_STORAGE_MIGRATION
from . import storage
from .dockerd import GATEWAY, Dockerd
from .node_pools import GPU_LABELS, KIND_LAYOUTS, POOLS, all_nodes

WAIT_READY_S = 300
STATE = ROOT / ".cache" / "kind"
SIMULATED_TAINT = {"key": "dynamo-platform.test/simulated", "value": "true", "effect": "NoSchedule"}
OVERLAY = OVERLAYS / "local" / "kind-images.yaml"  # what every install here adds (install_values)
# Each real node's pod range, in kind's pod subnet (10.244.0.0/16), in node-name order; kind-cni
# routes between them.
POD_RANGE = "10.244.{index}.0/24"
# Each simulated node's pod range, from which kwok gives its pods their made-up addresses: loopback,
# so that no EndpointSlice takes them.
SIMULATED_POD_RANGE = "127.101.{index}.0/24"
# The images.py images the chart's real pods run here (etcd, NATS, the helm-test probes).
CHART_IMAGES = sorted({name for name in images.CHART_IMAGES.values()})


class KindError(RuntimeError):
    pass


@dataclass
class KindCluster:
    cluster_name: str = "dynamo-platform-test"
    layout: str = "clouds"  # which pools the workers mirror: a key of KIND_LAYOUTS
    # What up() measured (make bench's budgets): how the node image came (present, loaded or built)
    # and in how long, nodes Ready after `kind create cluster`, the chart's images loaded.
    timings: dict = field(default_factory=dict)

    name = "kind"

    # The operator cannot run here (no image can be built for it): kwok simulates its pods.
    simulates_operator = True

    @property
    def kubeconfig(self):
        return STATE / "kubeconfig"

    @property
    def processes(self) -> Supervisor:
        return Supervisor(STATE / "kwok")

    @property
    def webhook_standin_address(self) -> str:
        """The host's address on the nodes' network: a webhook stand-in listening here is reachable
        from the API server (conversion_standin.py)."""
        return GATEWAY

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.kubeconfig)

    @property
    def api(self) -> KubeApi:
        """A client of this cluster's API (a new one each time: a new cluster has a new CA)."""
        return KubeApi(self.kubeconfig)

    @property
    def engine(self) -> Dockerd:
        return Dockerd()

    def unavailable(self) -> str | None:
        if not (TOOLS_BIN / "kind").exists():
            return "kind CLI missing: run `hack/bootstrap.sh --with-kind` (make test-kind does)"
        if reason := self.engine.unavailable():
            return f"kind runs its nodes on a private dockerd, which cannot run here: {reason}"
        missing = [tool for tool in ("buildah", "mmdebstrap", "go") if shutil.which(tool) is None]
        missing += [name for name in ("kubeadm", "kubelet", "kube-apiserver", "etcd", "kwok") if not (TOOLS_BIN / name).exists()]
        if missing:
            return f"{', '.join(missing)} missing (the node image is built here): run `hack/bootstrap.sh --with-kind` as root"
        return None

    def _kind(self, *args: str, input: str | None = None) -> str:
        result = subprocess.run([str(TOOLS_BIN / "kind"), *args], input=input, capture_output=True, text=True,
                                env={**self.engine.env, "KIND_EXPERIMENTAL_DOCKER_NETWORK": self.engine.network},
                                timeout=900)
        if result.returncode != 0:
            raise KindError(f"kind {' '.join(args[:2])} failed ({result.returncode}):\n{result.stderr[-4000:]}")
        return result.stdout

    def up(self) -> bool:
        from . import kind_node_image

        engine = self.engine
        engine.start()
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        if self.cluster_name in self._kind("get", "clusters").split():  # kept from an earlier run
            self.kubeconfig.write_text(self._kind("get", "kubeconfig", "--name", self.cluster_name))
            self._start_simulated_pools()
            return False
        try:
            started = time.monotonic()
            image, how = kind_node_image.node_image(engine, log=_say)
            self.timings["node_image"] = {"how": how, "s": round(time.monotonic() - started, 1)}
            started = time.monotonic()
            self._kind("create", "cluster", "--name", self.cluster_name, "--kubeconfig", str(self.kubeconfig),
                       "--config", "-", input=yaml.safe_dump(self.config(image)))
            self._give_pod_ranges(1 + len(KIND_LAYOUTS[self.layout]))
            wait_for(lambda: _all_ready(self.api), "every node Ready", WAIT_READY_S, interval=1)
            self.timings["create_to_ready_s"] = round(time.monotonic() - started, 1)
            _say(f"{1 + len(KIND_LAYOUTS[self.layout])} nodes Ready {self.timings['create_to_ready_s']:.0f} s after `kind create cluster`")
            started = time.monotonic()
            self.load_images(CHART_IMAGES)
            self.timings["chart_images_s"] = round(time.monotonic() - started, 1)
            self._start_simulated_pools()
            self.api.apply([{**sc, "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer",
                            "reclaimPolicy": "Delete"}
                           for sc in storage.storage_classes() if sc["metadata"]["name"] != storage.DEFAULT_CLASS])
        except BaseException:
            self.down()  # nothing half-made stays behind: no nodes, no engine
            raise
        return True

    def load_images(self, names: list[str]) -> None:
        """images.py's images `names`, built if needed, into every node (`kind load`, as kind's users
        load theirs): the chart's on creation, the Dynamo image where a test runs the data plane."""
        started = time.monotonic()
        built = images.build(names, log=_say)
        for item in built.values():
            self._kind("load", "image-archive", "--name", self.cluster_name, str(item.archive))
        _say(f"loaded {', '.join(i.recipe.ref for i in built.values())} in {time.monotonic() - started:.0f} s")

    def _give_pod_ranges(self, count: int) -> None:
        """Each of the `count` real nodes its POD_RANGE, once all have registered (a node's range
        can be set once, and its pod network starts with it)."""
        api = self.api
        nodes = wait_for(lambda: len(found := api.items(NODE)) == count and found,
                         f"{count} nodes to register", WAIT_READY_S, interval=1)
        for index, node in enumerate(sorted(nodes, key=lambda n: n["metadata"]["name"])):
            pod_range = POD_RANGE.format(index=index)
            api.patch(NODE, node["metadata"]["name"], {"spec": {"podCIDR": pod_range, "podCIDRs": [pod_range]}})

    def _start_simulated_pools(self) -> None:
        """kwok on the host, registering node_pools.py's pools as simulated nodes with SIMULATED_TAINT."""
        if self.processes.alive("kwok"):
            return
        config = STATE / "kwok" / "kwok.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions: {}\n")
        self.processes.start("kwok", [
            str(TOOLS_BIN / "kwok"), f"--kubeconfig={self.kubeconfig}", f"--config={config}",
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake", "--server-address=127.0.0.1:0",
            "--node-ip=127.0.0.1", "-v=WARN", "--node-lease-duration-seconds=40",
        ])
        simulated = all_nodes()
        for index, node in enumerate(simulated):
            pod_range = SIMULATED_POD_RANGE.format(index=index)
            node["spec"] |= {"taints": [*node["spec"]["taints"], SIMULATED_TAINT],
                             "podCIDR": pod_range, "podCIDRs": [pod_range]}
        api = self.api
        api.apply(simulated)
        wait_for(lambda: _all_ready(api, "type=kwok"), "the simulated nodes Ready", WAIT_READY_S, interval=1)

    def install_values(self) -> dict:
        """Values every install on this cluster needs: values/local/kind-images.yaml (the local
        images of the real pods, the simulated components on the simulated nodes), and no
        storage-migration hook (it needs the operator). As --set-json keys, one per setting of the
        overlay, so they merge with a test's own keys under the same parents."""
        return {**_settings(yaml.safe_load(OVERLAY.read_text())), **NO_STORAGE_MIGRATION}

    def config(self, image: str) -> dict:
        """kind's cluster config: the image built here, kubeadm pointed at the images in it."""
        from .kind_node_image import COREDNS_VERSION, ETCD_TAG, KUBEADM_REPOSITORY

        cluster_patches = [
            {"kind": "ClusterConfiguration", "imageRepository": KUBEADM_REPOSITORY,
             "etcd": {"local": {"imageTag": ETCD_TAG}}, "dns": {"imageTag": COREDNS_VERSION},
             # The harness gives out the pod ranges (_give_pod_ranges): see the module's docstring.
             "controllerManager": {"extraArgs": {"allocate-node-cidrs": "false"}}},
            # This VM runs cgroup v1, which the 1.35 kubelet refuses unless told otherwise.
            {"kind": "KubeletConfiguration", "failCgroupV1": False},
        ]
        pools = {pool.name: pool for pool in POOLS}
        workers = []
        for i, pool_name in enumerate(KIND_LAYOUTS[self.layout]):
            pool = pools[pool_name]
            join = {"kind": "JoinConfiguration", "nodeRegistration": {"taints": [dict(t) for t in pool.taints]}}
            # A real worker has no GPU: it takes its pool's labels but not the GPU ones, so what
            # needs a GPU (the snapshot agent, GPU workers) stays on the simulated GPU pools.
            labels = {key: value for key, value in pool.labels.items() if key not in GPU_LABELS}
            workers.append({"role": "worker", "image": image,
                            "labels": {**labels, "dynamo-platform.test/pool": pool.name,
                                       "topology.kubernetes.io/zone": f"zone-{i % 3}"},
                            "kubeadmConfigPatches": [yaml.safe_dump(join)]})
        return {
            "kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4",
            "networking": {"ipFamily": "ipv4", "apiServerAddress": "127.0.0.1", "kubeProxyMode": "iptables"},
            "kubeadmConfigPatches": [yaml.safe_dump(patch) for patch in cluster_patches],
            "nodes": [{"role": "control-plane", "image": image, "labels": {"dynamo-platform.test/pool": "control-plane"}},
                      *workers],
        }

    def down(self) -> None:
        self.processes.remove(["kwok"])
        engine = self.engine
        if engine.alive():
            subprocess.run([str(TOOLS_BIN / "kind"), "delete", "cluster", "--name", self.cluster_name],
                           env=engine.env, capture_output=True, timeout=300)
        engine.stop()
        self.kubeconfig.unlink(missing_ok=True)

    def leftovers(self) -> list[str]:
        """What down() should have removed and did not: the engine's host changes (dockerd.py lists
        them: mounts, processes, bridges, iptables chains, cgroups, state), kwok, the kubeconfig."""
        found = self.engine.leftovers()
        found += ["process kwok"] if self.processes.alive("kwok") else []
        found += [f"file {self.kubeconfig}"] if self.kubeconfig.exists() else []
        return found

    def prepare_install(self) -> None:
        pass  # kind ships a default StorageClass with a real provisioner

    def log_tails(self) -> str:
        return self.engine.processes.tails(["dockerd"]) + "\n" + self.processes.tails(["kwok"])


def _all_ready(api: KubeApi, selector: str | None = None) -> bool:
    nodes = api.items(NODE, selector=selector)
    return bool(nodes) and all(condition(node, "Ready").get("status") == "True" for node in nodes)


def _settings(values: dict, prefix: str = "") -> dict:
    """`values` as dotted keys to leaves. A map whose keys are label or annotation names (they hold a
    dot or a slash, like a nodeSelector's) is a leaf: a dotted key cannot name one of its entries."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict) and value and not any("." in k or "/" in k for k in value):
            flat |= _settings(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _say(line: str) -> None:
    print(f"kind: {line}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m dynamo_harness.clusters.kind up|down|leftovers`: down prints what is left behind
    (nothing, or one line each) and fails if anything is."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dynamo_harness.clusters.kind", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "leftovers"])
    args = parser.parse_args(argv)
    cluster = KindCluster()
    if args.command == "up":
        if reason := cluster.unavailable():
            print(f"kind: cannot run here: {reason}", file=sys.stderr)
            return 1
        started = time.monotonic()
        created = cluster.up()
        _say(f"{'created' if created else 'kept'} in {time.monotonic() - started:.0f} s; KUBECONFIG={cluster.kubeconfig}")
        return 0
    if args.command == "down":
        cluster.down()
    left = cluster.leftovers()
    for item in left:
        print(f"left behind: {item}")
    if not left:
        print("kind: nothing left behind")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
