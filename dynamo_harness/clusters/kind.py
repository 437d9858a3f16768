"""The `kind` provider: a throwaway kind cluster of real nodes (containers of a private dockerd).

Everything is local: the private dockerd (dockerd.py) runs the nodes, and the node image is built
here from pinned sources (kind_images.py). One control plane and three workers by default, the
workers labelled and tainted like a cloud's node pools, from the pool table the kwok nodes use
(nodes.py KIND_LAYOUTS). down() deletes the cluster and stops the engine, undoing its host changes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

import yaml

from ..kube import Kubectl
from ..paths import ROOT, TOOLS_BIN
from .dockerd import Dockerd
from .nodes import KIND_LAYOUTS, POOLS

WAIT_READY_S = 300


class KindError(RuntimeError):
    pass


@dataclass
class KindCluster:
    cluster_name: str = "dynamo-platform-test"
    layout: str = "aks-spot"  # which cloud's pools the workers mirror: a key of KIND_LAYOUTS

    name = "kind"

    @property
    def kubeconfig(self):
        return ROOT / ".cache" / "kind" / "kubeconfig"

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.kubeconfig)

    @property
    def engine(self) -> Dockerd:
        return Dockerd()

    def unavailable(self) -> str | None:
        if not (TOOLS_BIN / "kind").exists():
            return "kind CLI missing: run `hack/bootstrap.sh --with-kind` (make test-kind does)"
        if reason := self.engine.unavailable():
            return f"kind runs its nodes on a private dockerd, which cannot run here: {reason}"
        missing = [tool for tool in ("buildah", "mmdebstrap", "go") if shutil.which(tool) is None]
        missing += [name for name in ("kubeadm", "kubelet", "kube-apiserver", "etcd") if not (TOOLS_BIN / name).exists()]
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
        from .. import kind_images

        engine = self.engine
        engine.start()
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        if self.cluster_name in self._kind("get", "clusters").split():
            self.kubeconfig.write_text(self._kind("get", "kubeconfig", "--name", self.cluster_name))
            return False
        try:
            image = kind_images.node_image(engine, log=_say)
            started = time.monotonic()
            self._kind("create", "cluster", "--name", self.cluster_name, "--kubeconfig", str(self.kubeconfig),
                       "--config", "-", input=yaml.safe_dump(self.config(image)))
            self.kubectl.run("wait", "--for=condition=Ready", "node", "--all", f"--timeout={WAIT_READY_S}s")
        except BaseException:
            self.down()  # nothing half-made stays behind: no nodes, no engine
            raise
        _say(f"{1 + len(KIND_LAYOUTS[self.layout])} nodes Ready {time.monotonic() - started:.0f} s after `kind create cluster`")
        return True

    def config(self, image: str) -> dict:
        """kind's cluster config: the image built here, kubeadm pointed at the images in it."""
        from ..kind_images import COREDNS_VERSION, ETCD_TAG, KUBEADM_REPOSITORY

        cluster_patches = [
            {"kind": "ClusterConfiguration", "imageRepository": KUBEADM_REPOSITORY,
             "etcd": {"local": {"imageTag": ETCD_TAG}}, "dns": {"imageTag": COREDNS_VERSION}},
            # This VM runs cgroup v1, which the 1.35 kubelet refuses unless told otherwise.
            {"kind": "KubeletConfiguration", "failCgroupV1": False},
        ]
        pools = {pool.name: pool for pool in POOLS}
        workers = []
        for i, pool_name in enumerate(KIND_LAYOUTS[self.layout]):
            pool = pools[pool_name]
            join = {"kind": "JoinConfiguration", "nodeRegistration": {"taints": [dict(t) for t in pool.taints]}}
            workers.append({"role": "worker", "image": image,
                            "labels": {**pool.labels, "dynamo-platform.test/pool": pool.name,
                                       "topology.kubernetes.io/zone": f"zone-{i % 3}"},
                            "kubeadmConfigPatches": [yaml.safe_dump(join)]})
        return {
            "kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4",
            "networking": {"ipFamily": "ipv4", "apiServerAddress": "127.0.0.1", "kubeProxyMode": "iptables"},
            "kubeadmConfigPatches": [yaml.safe_dump(patch) for patch in cluster_patches],
            "nodes": [{"role": "control-plane", "image": image}, *workers],
        }

    def down(self) -> None:
        engine = self.engine
        if engine.alive():
            subprocess.run([str(TOOLS_BIN / "kind"), "delete", "cluster", "--name", self.cluster_name],
                           env=engine.env, capture_output=True, timeout=300)
        engine.stop()
        self.kubeconfig.unlink(missing_ok=True)

    def prepare_install(self) -> None:
        pass  # kind ships a default StorageClass with a real provisioner

    def log_tails(self) -> str:
        return self.engine.processes.tails(["dockerd"])


def _say(line: str) -> None:
    print(f"kind: {line}", file=sys.stderr, flush=True)

