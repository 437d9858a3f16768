"""GPU and RDMA checks of one node, per the RDMA/EFA sections of the Dynamo docs.

Each check runs commands on a testinfra Host (pytest-testinfra) and reports pass, fail, or skip
when the node has no such device. Three backends: this host (testinfra's local backend), a cluster
node (a privileged debug pod made through the API, NodeDebugBackend: no kubectl, unlike testinfra's
kubectl backend) and canned outputs in tests (CannedBackend). The checks use host.run only: each
module call (host.exists, host.file, host.package) is one more command, and on a cluster node each
command is one pod, so every check reads what it needs from one command and takes exit code 127
(or "not found") for a missing tool.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

from testinfra.backend.base import BaseBackend, CommandResult
from testinfra.backend.local import LocalBackend
from testinfra.host import Host

from ..kube_api import NODE, KubeApi, KubeApiError
from ..results import Outcome, ProbeResult, Status, failed, passed, skipped, timed

NOT_FOUND = 127


def _host(backend: BaseBackend) -> Host:
    host = Host(backend)
    backend.set_host(host)
    return host


class TimedLocalBackend(LocalBackend):
    """testinfra's local backend with a limit per command (testinfra's waits for ever: a hung
    nvidia-smi would hang the run); past it, subprocess.TimeoutExpired, which the check reports.
    `sh -c` from PATH, as before, so a missing tool reads "sh: 1: X: not found"."""

    def __init__(self, timeout: float = 60, **kwargs: Any):
        super().__init__(**kwargs)
        self.timeout = timeout

    def run_local(self, command: str, *args: str) -> CommandResult:
        cmd = self.encode(self.quote(command, *args))
        done = subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=self.timeout)
        return self.result(done.returncode, cmd, done.stdout, done.stderr)


def local_host(timeout: float = 60) -> Host:
    """This host, through testinfra's local backend (`sh -c`, as testinfra.get_host("local://"))."""
    return _host(TimedLocalBackend(timeout))


class NodeDebugBackend(BaseBackend):
    """Runs commands on a cluster node in a privileged pod with the host's root at /host, as
    `kubectl debug node/<name> --profile=sysadmin` would, through the API: `chroot /host sh -c`.
    One pod per command; its log (stdout and stderr together) comes back as stdout."""

    NAME = "node-debug"

    def __init__(self, api: KubeApi, node: str, image: str = "docker.io/library/busybox:1.37",
                 namespace: str = "default", **kwargs: Any):
        super().__init__(node, **kwargs)
        self.api, self.node, self.image, self.namespace = api, node, image, namespace

    def get_encoding(self) -> str:
        return "UTF-8"  # testinfra would ask the node's python3: one more pod, and python may be absent

    def pod(self, command: str) -> dict:
        return {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"node-debugger-{self.node[:30].rstrip('.-')}-{uuid.uuid4().hex[:5]}",
                         "namespace": self.namespace, "labels": {"app.kubernetes.io/managed-by": "dynamo-conformance"}},
            "spec": {
                "nodeName": self.node, "restartPolicy": "Never", "hostIPC": True, "hostNetwork": True, "hostPID": True,
                "tolerations": [{"operator": "Exists"}],
                "containers": [{"name": "debugger", "image": self.image,
                                "command": ["chroot", "/host", "sh", "-c", command],
                                "securityContext": {"privileged": True},
                                "volumeMounts": [{"name": "host-root", "mountPath": "/host"}]}],
                "volumes": [{"name": "host-root", "hostPath": {"path": "/"}}],
            },
        }

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        cmd = self.get_command(command, *args)
        try:
            rc, log = self.api.run_pod(self.pod(cmd), timeout=120)
        except (KubeApiError, TimeoutError) as err:
            return self.result(1, self.encode(cmd), "", getattr(err, "stderr", str(err)))
        return self.result(rc, self.encode(cmd), log, "")


def node_debug_host(api: KubeApi, node: str) -> Host:
    return _host(NodeDebugBackend(api, node))


class CannedBackend(BaseBackend):
    """Replays canned command outputs: <dir>/<first word of the command>.txt, exit code in <word>.rc."""

    NAME = "canned"

    def __init__(self, directory: Path, **kwargs: Any):
        super().__init__(directory.name, **kwargs)
        self.directory = directory

    def get_encoding(self) -> str:
        return "UTF-8"

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        cmd = self.get_command(command, *args)
        word = cmd.split()[0].replace("/", "_")
        out = self.directory / f"{word}.txt"
        if not out.exists():
            return self.result(NOT_FOUND, self.encode(cmd), "", f"sh: {word}: not found")
        rc_file = self.directory / f"{word}.rc"
        return self.result(int(rc_file.read_text()) if rc_file.exists() else 0, self.encode(cmd), out.read_text(), "")


def canned_host(directory: Path) -> Host:
    return _host(CannedBackend(directory))


def _output(out: CommandResult) -> str:
    """stdout and stderr together, as the checks read and quote them."""
    return out.stdout + out.stderr


def _missing(out: CommandResult) -> bool:
    return out.rc == NOT_FOUND or "not found" in _output(out).lower() and out.rc != 0


def gpus(host: Host) -> Outcome:
    out = host.run("nvidia-smi -L")
    text = _output(out)
    if _missing(out):
        return skipped("nvidia-smi not found: no NVIDIA driver on this node")
    found = re.findall(r"^GPU \d+: (.+?) \(UUID", text, re.M)
    if out.rc == 0 and found:
        return passed(f"{len(found)} x {found[0]}", gpus=len(found))
    return failed(f"nvidia-smi failed (rc {out.rc}): {text.strip()[:200]}")


def infiniband_devices(host: Host, expect_rdma: bool) -> Outcome:
    out = host.run("ls /dev/infiniband")
    text = _output(out)
    devices = [d for d in text.split() if d.startswith("uverbs")] if out.rc == 0 else []
    if devices:
        return passed(f"{len(devices)} uverbs device(s)", devices=len(devices))
    if expect_rdma:
        return failed("no /dev/infiniband/uverbs*: the RDMA device plugin or driver is missing")
    return skipped("no /dev/infiniband on this node (not an RDMA node)")


def ports_active(host: Host, expect_rdma: bool) -> Outcome:
    out = host.run("ibv_devinfo")
    text = _output(out)
    if _missing(out) or "No IB devices found" in text:
        if expect_rdma:
            return failed("ibv_devinfo finds no RDMA device")
        return skipped("no RDMA device (ibv_devinfo)")
    states = re.findall(r"state:\s+(PORT_\w+)", text)
    down = [s for s in states if s != "PORT_ACTIVE"]
    if states and not down:
        return passed(f"{len(states)} port(s) PORT_ACTIVE", ports=len(states))
    return failed(f"{len(down)}/{len(states)} port(s) not active: {sorted(set(down))}")


def peermem(host: Host, rdma_node: bool) -> Outcome:
    """GPUDirect RDMA needs nvidia-peermem (or efa_nv_peermem), except on kernels >= 5.12 with DMA-BUF."""
    if not rdma_node:
        return skipped("not an RDMA node")
    modules = _output(host.run("lsmod"))
    loaded = [m for m in ("nvidia_peermem", "efa_nv_peermem") if re.search(rf"^{m}\s", modules, re.M)]
    if loaded:
        return passed(f"{loaded[0]} loaded")
    kernel = _output(host.run("uname -r")).strip()
    match = re.match(r"(\d+)\.(\d+)", kernel)
    if match and (int(match.group(1)), int(match.group(2))) >= (5, 12):
        return passed(f"kernel {kernel}: DMA-BUF path, no peermem module needed")
    return failed(f"kernel {kernel or '?'} < 5.12 and neither nvidia_peermem nor efa_nv_peermem is loaded")


def efa_provider(host: Host, expect_efa: bool) -> Outcome:
    out = host.run("fi_info -p efa")
    text = _output(out)
    if out.rc == 0 and re.search(r"provider:\s*efa", text):
        domains = set(re.findall(r"domain:\s*(\S+)", text))
        return passed(f"libfabric efa provider, {len(domains)} domain(s)", domains=len(domains))
    if expect_efa:
        return failed(f"fi_info -p efa: {text.strip()[:200] or 'no efa provider'}")
    return skipped("not an EFA node (fi_info finds no efa provider)")


def ucx_transports(host: Host, expect_rdma: bool) -> Outcome:
    out = host.run("ucx_info -d")
    text = _output(out)
    if _missing(out):
        return skipped("ucx_info not found on this node")
    transports = set(re.findall(r"Transport:\s*(\S+)", text))
    domains = set(re.findall(r"Memory domain:\s*(\S+)", text))
    rdma = sorted(t for t in transports if t.startswith(("rc", "dc", "ud")))
    cuda = sorted(d for d in domains if d.startswith(("cuda", "gdr")))
    if rdma and cuda:
        return passed(f"RDMA {rdma}, CUDA memory {cuda}")
    if not expect_rdma and not rdma:
        return skipped(f"no RDMA transport (have {sorted(transports)}): not an RDMA node")
    return failed(f"RDMA transports {rdma or 'none'}, CUDA memory domains {cuda or 'none'}")


def allocatable(api: KubeApi, node: str) -> ProbeResult:
    def check() -> Outcome:
        status = api.get(NODE, node)["status"]["allocatable"]
        found = {k: v for k, v in status.items() if k in ("rdma/ib", "vpc.amazonaws.com/efa") or k.startswith("rdma/")}
        if found and all(v not in ("0", 0) for v in found.values()):
            return passed(", ".join(f"{k}={v}" for k, v in found.items()))
        return skipped(f"node {node} advertises no rdma/* or vpc.amazonaws.com/efa resource")

    return timed("rdma/allocatable", check)


def all_checks(host: Host, *, expect_rdma: bool = False, expect_efa: bool = False) -> list[ProbeResult]:
    devices = timed("rdma/devices", lambda: infiniband_devices(host, expect_rdma))
    efa = timed("efa/provider", lambda: efa_provider(host, expect_efa))
    rdma_node = expect_rdma or expect_efa or devices.status is Status.PASS or efa.status is Status.PASS
    return [
        timed("gpu/visible", lambda: gpus(host)),
        devices,
        timed("rdma/ports-active", lambda: ports_active(host, expect_rdma)),
        timed("rdma/peermem", lambda: peermem(host, rdma_node)),
        efa,
        timed("ucx/transports", lambda: ucx_transports(host, expect_rdma)),
    ]
