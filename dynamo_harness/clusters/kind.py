"""The `kind` provider: a throwaway kind cluster where a Docker engine runs."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import yaml

from ..kube import Kubectl
from ..paths import ROOT, TOOLS_BIN

CONFIG = {
    "kind": "Cluster",
    "apiVersion": "kind.x-k8s.io/v1alpha4",
    "nodes": [{"role": "control-plane"}, {"role": "worker"}, {"role": "worker"}],
}


@dataclass
class KindCluster:
    cluster_name: str = "dynamo-platform-test"

    name = "kind"

    @property
    def kubeconfig(self):
        return ROOT / ".cache" / "kind" / "kubeconfig"

    @property
    def kubectl(self) -> Kubectl:
        return Kubectl(self.kubeconfig)

    def unavailable(self) -> str | None:
        if not (TOOLS_BIN / "kind").exists():
            return "kind CLI missing: run `hack/bootstrap.sh --with-kind` (make test-kind does)"
        if not shutil.which("docker"):
            return "kind needs Docker and there is no docker CLI here"
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
        if info.returncode != 0:
            return "kind needs a running Docker engine; `docker info` failed here (client only, no daemon)"
        return None

    def _kind(self, *args: str, input: str | None = None) -> str:
        return subprocess.run([str(TOOLS_BIN / "kind"), *args], input=input, capture_output=True,
                              text=True, check=True, timeout=600).stdout

    def up(self) -> bool:
        if self.cluster_name in self._kind("get", "clusters").split():
            self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
            self.kubeconfig.write_text(self._kind("get", "kubeconfig", "--name", self.cluster_name))
            return False
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        self._kind("create", "cluster", "--name", self.cluster_name, "--kubeconfig", str(self.kubeconfig),
                   "--wait", "180s", "--config", "-", input=yaml.safe_dump(CONFIG))
        return True

    def down(self) -> None:
        self._kind("delete", "cluster", "--name", self.cluster_name)

    def prepare_install(self) -> None:
        pass  # kind ships a default StorageClass with a real provisioner

    def log_tails(self) -> str:
        return ""
