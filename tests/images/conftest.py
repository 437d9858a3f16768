"""The local node's images, built by dynamo_harness.images and run by a containerd of the test's
own (runc, overlayfs, no CRI): each test starts a pod-like sandbox, the pause image holding a
network namespace that only has loopback, and runs the other images inside it, so the chart's
fixed ports (2379, 4222, 8222, ...) never meet another process on this machine."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dynamo_harness import images
from dynamo_harness.helm import ETCD_AND_NATS
from dynamo_harness.processes import Supervisor

NAMESPACE = "dynamo-images-test"


def missing(tools: tuple[str, ...], what: str, install: str) -> str | None:
    """Why `what` cannot happen here (not root, or tools missing), or None."""
    if os.geteuid() != 0:
        return f"{what} needs root"
    absent = [tool for tool in tools if shutil.which(tool) is None]
    return f"{what} needs {', '.join(absent)}: {install}" if absent else None


@pytest.fixture(scope="session")
def render(render):
    """The chart rendered with etcd and NATS on (its defaults leave them off): their images are
    what these tests run."""
    return lambda overlay=None, values=None, **kwargs: render(overlay, {**ETCD_AND_NATS, **(values or {})}, **kwargs)


@pytest.fixture(scope="session")
def built() -> dict[str, images.Built]:
    if reason := missing(("buildah", "mmdebstrap", "go"), "building the local node's images",
                         "`hack/bootstrap.sh --with-images` installs buildah and mmdebstrap"):
        pytest.skip(reason)
    return images.build()


@dataclass
class Containerd:
    """A containerd daemon of the test session's own, in a temporary directory."""

    state_dir: Path

    @property
    def address(self) -> str:
        return str(self.state_dir / "containerd.sock")

    def start(self) -> None:
        config = self.state_dir / "config.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{self.state_dir / "root"}"\nstate = "{self.state_dir / "state"}"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f'[grpc]\n  address = "{self.address}"\n'
        )
        supervisor = Supervisor(self.state_dir)
        supervisor.start("containerd", ["containerd", "--config", str(config)])
        supervisor.wait(lambda: self.ctr("version", check=False).returncode == 0, "containerd", 30, ["containerd"])

    def ctr(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(["ctr", "--address", self.address, "--namespace", NAMESPACE, *args],
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)} failed: {result.stderr}")
        return result

    def stop(self) -> None:
        """Remove every container, image and namespace made here, then the daemon and its state."""
        for task in self.ctr("tasks", "ls", "-q", check=False).stdout.split():
            self.ctr("tasks", "kill", "-s", "SIGKILL", task, check=False)
        time.sleep(0.5)
        for container in self.ctr("containers", "ls", "-q", check=False).stdout.split():
            self.ctr("tasks", "rm", "-f", container, check=False)
            self.ctr("containers", "rm", container, check=False)
        for ref in self.ctr("images", "ls", "-q", check=False).stdout.split():
            self.ctr("images", "rm", "--sync", ref, check=False)
        subprocess.run(["ctr", "--address", self.address, "namespaces", "rm", NAMESPACE], capture_output=True)
        Supervisor(self.state_dir).stop(["containerd"])
        # ctr's default cgroup parent is /<namespace> in every cgroup v1 controller (and cgroup2);
        # the runc shim makes /run/containerd/runc/<namespace> even with --runc-root.
        for parent in [*Path("/sys/fs/cgroup").glob(f"*/{NAMESPACE}"), Path("/run/containerd/runc") / NAMESPACE]:
            try:
                parent.rmdir()
            except OSError:
                pass
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for mount in sorted((m for m in mounts if m.startswith(str(self.state_dir))), reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True)
        for made in ("root", "state", "runc", "fifo"):
            shutil.rmtree(self.state_dir / made, ignore_errors=True)


@pytest.fixture(scope="session")
def containerd(built: dict[str, images.Built], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    if reason := missing(("containerd", "ctr", "runc"), "running the local node's images",
                         "Debian's containerd and runc (`hack/bootstrap.sh --with-node` installs them)"):
        pytest.skip(reason)
    daemon = Containerd(tmp_path_factory.mktemp("containerd"))
    daemon.start()
    try:
        images.import_into(daemon.address, NAMESPACE)
        yield daemon
    finally:
        daemon.stop()


_ids = itertools.count()


@dataclass
class Pod:
    """The pause image holds a network namespace (loopback only); containers run inside it,
    as the chart's pods run them: read-only root, the image's numeric user, seccomp on."""

    containerd: Containerd
    work: Path
    name: str = field(default_factory=lambda: f"pod{next(_ids)}")
    containers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.netns = ""
        self.start("pause", "pause", [])
        rows = (row.split() for row in self.containerd.ctr("tasks", "ls").stdout.splitlines()[1:])
        pid = next(row[1] for row in rows if row[0] == f"{self.name}-pause")
        self.netns = f"/proc/{pid}/ns/net"

    def start(self, container: str, image: str, args: list[str], env: dict[str, str] | None = None,
              mounts: dict[str, str] | None = None) -> str:
        """Run a container in the background. mounts: path in the container -> host directory."""
        cid = f"{self.name}-{container}"
        log = f"--log-uri=file://{self.work / container}.log"
        self.containerd.ctr("run", "-d", log, *self._options(env, mounts), images.RECIPES[image].ref, cid, *args)
        self.containers.append(cid)
        return cid

    def run(self, container: str, image: str, args: list[str], env: dict[str, str] | None = None,
            mounts: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a container to completion; returns its exit status and output."""
        cid = f"{self.name}-{container}"
        return self.containerd.ctr("run", "--rm", *self._options(env, mounts), images.RECIPES[image].ref, cid,
                                   *args, check=False, timeout=timeout)

    def exec(self, container: str, *args: str) -> subprocess.CompletedProcess:
        return self.containerd.ctr("tasks", "exec", "--exec-id", f"exec{next(_ids)}", f"{self.name}-{container}",
                                   *args, check=False)

    def status(self, container: str) -> str | None:
        """RUNNING, STOPPED, ... as containerd reports the container's task."""
        for row in self.containerd.ctr("tasks", "ls").stdout.splitlines()[1:]:
            task, _, status = row.split()
            if task == f"{self.name}-{container}":
                return status
        return None

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.work.glob("*.log")))

    def _options(self, env: dict[str, str] | None, mounts: dict[str, str] | None) -> list[str]:
        # runc's state and the I/O fifos stay in the daemon's directory, not under /run/containerd.
        state = self.containerd.state_dir
        options = ["--read-only", "--seccomp", f"--runc-root={state / 'runc'}", f"--fifo-dir={state / 'fifo'}"]
        if self.netns:
            options += ["--with-ns", f"network:{self.netns}"]
        for name, value in (env or {}).items():
            options += ["--env", f"{name}={value}"]
        for target, source in (mounts or {}).items():
            options += ["--mount", f"type=bind,src={source},dst={target},options=rbind:rw"]
        return options

    def remove(self) -> None:
        for cid in reversed(self.containers):
            self.containerd.ctr("tasks", "kill", "-s", "SIGKILL", cid, check=False)
            self.containerd.ctr("tasks", "rm", "-f", cid, check=False)
            self.containerd.ctr("containers", "rm", cid, check=False)


@pytest.fixture
def pod(containerd: Containerd, tmp_path: Path) -> Iterator[Pod]:
    sandbox = Pod(containerd, tmp_path)
    yield sandbox
    sandbox.remove()


@pytest.fixture
def writable(tmp_path: Path):
    """writable(name, uid) -> a host directory that UID owns, to mount where the chart mounts an
    emptyDir, PVC or ConfigMap."""

    def _writable(name: str, uid: int) -> str:
        path = tmp_path / name
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, uid, uid)
        return str(path)

    return _writable
