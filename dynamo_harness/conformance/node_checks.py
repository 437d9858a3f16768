"""GPU and RDMA checks of one node, per the RDMA/EFA sections of the Dynamo docs.

Each check runs commands through a Runner (this host, a privileged debug pod on a cluster node,
or canned outputs in tests) and reports pass, fail, or skip when the node has no such device.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..kube_api import NODE, KubeApi, KubeApiError
from ..results import Outcome, ProbeResult, Status, failed, passed, skipped, timed

NOT_FOUND = 127


@dataclass
class Output:
    rc: int
    stdout: str


class Runner(Protocol):
    def __call__(self, command: str) -> Output: ...


def local_runner(command: str) -> Output:
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    return Output(result.returncode, result.stdout + result.stderr)


@dataclass
class NodeDebugRunner:
    """Runs commands on a cluster node in a privileged pod with the host's root at /host, as
    `kubectl debug node/<name> --profile=sysadmin` would, through the API: `chroot /host sh -c`."""

    api: KubeApi
    node: str
    image: str = "docker.io/library/busybox:1.37"
    namespace: str = "default"

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

    def __call__(self, command: str) -> Output:
        try:
            return Output(*self.api.run_pod(self.pod(command), timeout=120))
        except (KubeApiError, TimeoutError) as err:
            return Output(1, getattr(err, "stderr", str(err)))


@dataclass
class CannedRunner:
    """Replays canned command outputs: <dir>/<first word of the command>.txt, exit code in <word>.rc."""

    directory: Path

    def __call__(self, command: str) -> Output:
        word = command.split()[0].replace("/", "_")
        out = self.directory / f"{word}.txt"
        if not out.exists():
            return Output(NOT_FOUND, f"sh: {word}: not found")
        rc_file = self.directory / f"{word}.rc"
        return Output(int(rc_file.read_text()) if rc_file.exists() else 0, out.read_text())


def _missing(out: Output) -> bool:
    return out.rc == NOT_FOUND or "not found" in out.stdout.lower() and out.rc != 0


def gpus(run: Runner) -> Outcome:
    out = run("nvidia-smi -L")
    if _missing(out):
        return skipped("nvidia-smi not found: no NVIDIA driver on this node")
    found = re.findall(r"^GPU \d+: (.+?) \(UUID", out.stdout, re.M)
    if out.rc == 0 and found:
        return passed(f"{len(found)} x {found[0]}", gpus=len(found))
    return failed(f"nvidia-smi failed (rc {out.rc}): {out.stdout.strip()[:200]}")


def infiniband_devices(run: Runner, expect_rdma: bool) -> Outcome:
    out = run("ls /dev/infiniband")
    devices = [d for d in out.stdout.split() if d.startswith("uverbs")] if out.rc == 0 else []
    if devices:
        return passed(f"{len(devices)} uverbs device(s)", devices=len(devices))
    if expect_rdma:
        return failed("no /dev/infiniband/uverbs*: the RDMA device plugin or driver is missing")
    return skipped("no /dev/infiniband on this node (not an RDMA node)")


def ports_active(run: Runner, expect_rdma: bool) -> Outcome:
    out = run("ibv_devinfo")
    if _missing(out) or "No IB devices found" in out.stdout:
        if expect_rdma:
            return failed("ibv_devinfo finds no RDMA device")
        return skipped("no RDMA device (ibv_devinfo)")
    states = re.findall(r"state:\s+(PORT_\w+)", out.stdout)
    down = [s for s in states if s != "PORT_ACTIVE"]
    if states and not down:
        return passed(f"{len(states)} port(s) PORT_ACTIVE", ports=len(states))
    return failed(f"{len(down)}/{len(states)} port(s) not active: {sorted(set(down))}")


def peermem(run: Runner, rdma_node: bool) -> Outcome:
    """GPUDirect RDMA needs nvidia-peermem (or efa_nv_peermem), except on kernels >= 5.12 with DMA-BUF."""
    if not rdma_node:
        return skipped("not an RDMA node")
    modules = run("lsmod").stdout
    loaded = [m for m in ("nvidia_peermem", "efa_nv_peermem") if re.search(rf"^{m}\s", modules, re.M)]
    if loaded:
        return passed(f"{loaded[0]} loaded")
    kernel = run("uname -r").stdout.strip()
    match = re.match(r"(\d+)\.(\d+)", kernel)
    if match and (int(match.group(1)), int(match.group(2))) >= (5, 12):
        return passed(f"kernel {kernel}: DMA-BUF path, no peermem module needed")
    return failed(f"kernel {kernel or '?'} < 5.12 and neither nvidia_peermem nor efa_nv_peermem is loaded")


def efa_provider(run: Runner, expect_efa: bool) -> Outcome:
    out = run("fi_info -p efa")
    if out.rc == 0 and re.search(r"provider:\s*efa", out.stdout):
        domains = set(re.findall(r"domain:\s*(\S+)", out.stdout))
        return passed(f"libfabric efa provider, {len(domains)} domain(s)", domains=len(domains))
    if expect_efa:
        return failed(f"fi_info -p efa: {out.stdout.strip()[:200] or 'no efa provider'}")
    return skipped("not an EFA node (fi_info finds no efa provider)")


def ucx_transports(run: Runner, expect_rdma: bool) -> Outcome:
    out = run("ucx_info -d")
    if _missing(out):
        return skipped("ucx_info not found on this node")
    transports = set(re.findall(r"Transport:\s*(\S+)", out.stdout))
    domains = set(re.findall(r"Memory domain:\s*(\S+)", out.stdout))
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


def all_checks(run: Runner, *, expect_rdma: bool = False, expect_efa: bool = False) -> list[ProbeResult]:
    devices = timed("rdma/devices", lambda: infiniband_devices(run, expect_rdma))
    efa = timed("efa/provider", lambda: efa_provider(run, expect_efa))
    rdma_node = expect_rdma or expect_efa or devices.status is Status.PASS or efa.status is Status.PASS
    return [
        timed("gpu/visible", lambda: gpus(run)),
        devices,
        timed("rdma/ports-active", lambda: ports_active(run, expect_rdma)),
        timed("rdma/peermem", lambda: peermem(run, rdma_node)),
        efa,
        timed("ucx/transports", lambda: ucx_transports(run, expect_rdma)),
    ]
