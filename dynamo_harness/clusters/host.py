"""Host state the local cluster's real node changes outside its state directory, and how to undo it.

A kubelet and containerd leave things behind that stopping the processes does not remove: mounts
(the kubelet root dir, pod volumes, container rootfs, network namespaces), `kubepods` cgroups in
every cgroup v1 controller, the CNI bridge, iptables chains (kube-proxy's, portmap's, ours),
`/var/log/containers` links, shim processes and kernel settings the kubelet tunes. Each undo here
is idempotent, and `leftovers()` lists what is still there, for `down()` and its test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
POD_CGROUP = "kubepods"
CONTAINER_LOGS = Path("/var/log/containers")
# Chains made by kube-proxy and the kubelet (KUBE-), the portmap plugin (CNI-) and the node (DYNAMO-).
CHAIN_PREFIXES = ("KUBE-", "CNI-", "DYNAMO-")
IPTABLES = ("iptables", "ip6tables")
# Kernel settings the kubelet rewrites at start (protectKernelDefaults: false), plus forwarding,
# which Services need: saved before the node starts and restored by down().
SYSCTLS = (
    "net/ipv4/ip_forward",
    "vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
)


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


# -- kernel settings -------------------------------------------------------------------------

def read_sysctls() -> dict[str, str]:
    return {key: Path("/proc/sys", key).read_text().strip() for key in SYSCTLS if Path("/proc/sys", key).exists()}


def write_sysctls(values: dict[str, str]) -> None:
    for key, value in values.items():
        Path("/proc/sys", key).write_text(value + "\n")


# -- bridge and guard chain ------------------------------------------------------------------

def bridge_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def create_bridge(name: str, address: str, routed: list[str]) -> None:
    """The bridge pods attach to, with the node's address, and routes for `routed` ranges (the
    Service range) onto it, so host traffic to a ClusterIP reaches kube-proxy's rules."""
    if not bridge_exists(name):
        run("ip", "link", "add", name, "type", "bridge")
    run("ip", "addr", "replace", address, "dev", name)
    run("ip", "link", "set", name, "up")
    for cidr in routed:
        run("ip", "route", "replace", cidr, "dev", name, "src", address.split("/")[0])


def delete_bridge(name: str) -> None:
    if bridge_exists(name):
        run("ip", "link", "delete", name)


def guard_forwarding(chain: str, bridge: str) -> None:
    """Forward only between pods on the bridge: pod traffic never leaves the machine, and nothing
    from outside is forwarded to a pod. Inserted ahead of every other FORWARD rule."""
    run("iptables", "-w", "-N", chain, check=False)
    run("iptables", "-w", "-F", chain)
    run("iptables", "-w", "-A", chain, "-i", bridge, "!", "-o", bridge, "-j", "DROP")
    run("iptables", "-w", "-A", chain, "!", "-i", bridge, "-o", bridge, "-j", "DROP")
    if run("iptables", "-w", "-C", "FORWARD", "-j", chain, check=False).returncode != 0:
        run("iptables", "-w", "-I", "FORWARD", "1", "-j", chain)


def our_chains(binary: str = "iptables", prefixes: tuple[str, ...] = CHAIN_PREFIXES) -> dict[str, list[str]]:
    """{table: [chain, ...]} of the chains named with `prefixes` in iptables-save output."""
    if not shutil.which(f"{binary}-save"):
        return {}
    chains: dict[str, list[str]] = {}
    table = ""
    for line in run(f"{binary}-save", check=False).stdout.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":") and line[1:].startswith(prefixes):
            chains.setdefault(table, []).append(line[1:].split()[0])
    return chains


def remove_chains() -> None:
    """Delete every rule jumping to one of our chains, then the chains, in every table and family."""
    for binary in IPTABLES:
        for table, chains in our_chains(binary).items():
            dump = run(f"{binary}-save", "-t", table, check=False).stdout
            for rule in dump.splitlines():
                target = re.search(r"-j (\S+)", rule)
                if rule.startswith("-A ") and target and target.group(1) in chains:
                    run(binary, "-w", "-t", table, "-D", *rule[3:].split(), check=False)
            for chain in chains:
                run(binary, "-w", "-t", table, "-F", chain, check=False)
            for chain in chains:
                run(binary, "-w", "-t", table, "-X", chain, check=False)


# -- mounts, cgroups, processes, logs --------------------------------------------------------

def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path`, deepest first (the order to unmount them in)."""
    prefix = str(path.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def unmount_all(path: Path) -> None:
    for _ in range(3):  # a shared mount can reappear under a parent once: go round again
        points = mounts_under(path)
        if not points:
            return
        for point in points:
            if run("umount", point, check=False).returncode != 0:
                run("umount", "--lazy", point, check=False)


def pod_cgroups() -> list[Path]:
    """The `kubepods` cgroup in every hierarchy it exists in (each v1 controller, the unified one)."""
    return cgroups_named(POD_CGROUP)


def cgroups_named(name: str) -> list[Path]:
    """The top-level cgroup `name` in every hierarchy it exists in."""
    return sorted(p / name for p in CGROUP_ROOT.iterdir() if (p / name).is_dir()) if CGROUP_ROOT.is_dir() else []


def pod_cgroup_pids() -> set[int]:
    pids: set[int] = set()
    for root in pod_cgroups():
        for procs in root.rglob("cgroup.procs"):
            try:
                pids |= {int(p) for p in procs.read_text().split()}
            except OSError:
                pass
    return pids


def remove_pod_cgroups() -> None:
    remove_cgroups(POD_CGROUP)


def remove_cgroups(name: str) -> None:
    """Remove the top-level cgroup `name` and everything below it, in every hierarchy."""
    for root in cgroups_named(name):
        for _ in range(5):  # a cgroup can vanish while it is walked (its last task exiting): walk again
            try:
                directories = sorted((d for d in root.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True)
            except FileNotFoundError:
                continue
            for directory in directories:
                _rmdir(directory)
            break
        _rmdir(root)


def _rmdir(directory: Path) -> None:
    for _ in range(20):  # a cgroup whose last task just exited is busy for a moment
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)


def processes_mentioning(text: str) -> set[int]:
    """Processes whose command line contains `text` (containerd shims name their containerd's socket)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.add(int(proc.name))
            except OSError:
                pass
    return found


def kill(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in pids):
        time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def container_log_links(target: Path) -> list[Path]:
    """The kubelet's /var/log/containers links that point into `target` (its pod logs dir)."""
    if not CONTAINER_LOGS.is_dir():
        return []
    prefix = str(target)
    return [p for p in CONTAINER_LOGS.iterdir() if p.is_symlink() and os.readlink(p).startswith(prefix)]
