"""Background processes with pid files and one log file each, for the local cluster and the
embedded data plane. Processes get their own session, so they outlive the starting command
(`make up`) until stopped (`make down`)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests


class ProcessError(RuntimeError):
    pass


@dataclass
class Supervisor:
    state_dir: Path

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log(name).open("ab") as log:
            process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=self.state_dir, env={**os.environ, **(env or {})},
            )
        (self.state_dir / f"{name}.pid").write_text(str(process.pid))
        return process.pid

    def pid(self, name: str) -> int | None:
        try:
            return int((self.state_dir / f"{name}.pid").read_text())
        except (OSError, ValueError):
            return None

    def started_at(self, name: str) -> float | None:
        """When the component's current process was started (epoch seconds): its pid file's write."""
        try:
            return (self.state_dir / f"{name}.pid").stat().st_mtime
        except OSError:
            return None

    def alive(self, name: str) -> bool:
        pid = self.pid(name)
        return pid is not None and _running(pid)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Fault injection: signal a component without cleaning up after it."""
        if (pid := self.pid(name)) is not None:
            _signal_group(pid, sig)
            _wait_gone([pid], 10)

    def save_ports(self, names: list[str]) -> dict[str, int]:
        """Pick a free loopback port per name and remember them for a later healthy() check."""
        ports = {name: free_port() for name in names}
        (self.state_dir / "ports.json").write_text(json.dumps(ports))
        return ports

    def saved_ports(self) -> dict[str, int] | None:
        try:
            return json.loads((self.state_dir / "ports.json").read_text())
        except (OSError, ValueError):
            return None

    def all_alive(self, names: list[str]) -> bool:
        return all(self.alive(name) for name in names)

    def remove(self, names: list[str]) -> None:
        """Stop the processes and delete the state directory."""
        self.stop(names)
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def stop(self, names: list[str], grace: float = 5) -> None:
        """SIGTERM every process group at once; SIGKILL what is left after `grace` seconds."""
        pids = [pid for name in names if (pid := self.pid(name)) is not None]
        for pid in pids:
            _signal_group(pid, signal.SIGTERM)
        if not _wait_gone(pids, grace):
            for pid in pids:
                _signal_group(pid, signal.SIGKILL)
            _wait_gone(pids, grace)

    def wait(self, ready: Callable[[], bool], what: str, timeout: float, watched: list[str]) -> None:
        """Poll ready() until true; fail early, with log tails, if a watched process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            dead = [n for n in watched if self.pid(n) is not None and not self.alive(n)]
            if dead:
                raise ProcessError(f"{dead} exited while waiting for {what}\n{self.tails(watched)}")
            time.sleep(0.25)
        raise ProcessError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.tails(watched)}")

    def tails(self, names: list[str], lines: int = 30) -> str:
        out = []
        for name in names:
            path = self.log(name)
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name} ({path}) ---\n" + "\n".join(tail))
        return "\n".join(out)


def answers(url: str, timeout: float = 2, **options) -> bool:
    """GET `url` answers 200; a connection error or a timeout is a plain no (readiness polling).
    `options` go to requests.get (`verify=` and `cert=` for TLS)."""
    try:
        return requests.get(url, timeout=timeout, **options).status_code == 200
    except requests.RequestException:
        return False


def accepts(host: str, port: int) -> bool:
    """Whether host:port takes a TCP connection now."""
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range: a component that restarts on its
    saved port (a restart fault) must find it free, and inside that range any outgoing connection
    or `bind(0)` on the machine may be handed it meanwhile (seen: NATS's monitor port taken)."""
    below = ephemeral_ports_start()
    for _ in range(100):
        port = random.randrange(below // 2, below)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError(f"no free loopback port found between {below // 2} and {below}")


def ephemeral_ports_start() -> int:
    """The first port the kernel hands out to outgoing connections and `bind(0)`."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of this process counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_running(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return not any(_running(pid) for pid in pids)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        pass
