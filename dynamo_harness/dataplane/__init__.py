"""The Dynamo data plane: what the probes, `make up` and the bench run models on. Two planes
implement `DataPlane`:

- embedded.EmbeddedDataPlane: etcd, NATS, the Dynamo frontend and a mocker worker as processes on
  127.0.0.1 (no cluster);
- cluster.ClusterDataPlane: the frontend and mocker as pods (on the local cluster's real node, or
  the kind cluster's workers), wired the way the installed operator wires a DynamoGraphDeployment.

Both run the same Dynamo components with the same flags (components.py). This module holds what
they share with the fault probes (conformance.faults): the faults a plane can inject (`Fault`), its
view of its own components (`Observed`) and the log line that explains a component's exit. It
imports neither plane, so the packaged CLI can import it without either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from ..tiny_model import MODEL

__all__ = ["MODEL", "DataPlane", "Fault", "Observed", "Window", "WINDOWS", "KNOWN_CAUSES", "advice",
           "explaining_line"]


# -- the interface a data plane implements --------------------------------------------------------

@dataclass(frozen=True)
class Window:
    seconds: float
    reason: str  # which lease or timeout it covers, and where the number comes from


# Observation windows from upstream's numbers (read 2026-12 with the search tools: the lease TTL is
# 10 s in an older (0f249f5e) and the newest stored (6a7d2f73) etcd.rs). A plane whose wiring
# differs (Kubernetes discovery) gives its Faults windows of its own, saying why.
_LEASE = ("Dynamo's primary etcd lease TTL (10 s: `create_lease(connector, 10, ...)` in ai-dynamo/dynamo "
          "lib/runtime/src/transports/etcd.rs @6a7d2f73) plus the 10 s deadline of its etcd reconnect; a process "
          "whose lease lapsed shuts its runtime down within this time")
WINDOWS: dict[str, Window] = {
    "etcd": Window(20, _LEASE),
    "nats": Window(15, "the NATS client's request timeout (10 s) plus its longest reconnect back-off (4 s): "
                       "async-nats defaults (nats-io/nats.rs async-nats/src/options.rs `request_timeout`, "
                       "connector.rs `reconnect_delay_callback_default`), which Dynamo's "
                       "lib/runtime/src/transports/nats.rs does not override"),
    "frontend": Window(20, "with etcd discovery the killed frontend's registration lingers until its lease "
                           "lapses: " + _LEASE),
    "worker": Window(20, "with etcd discovery the killed worker's registration lingers, and the frontend may "
                         "route to it, until its lease lapses: " + _LEASE),
}


@dataclass(frozen=True)
class Fault:
    """One fault a data plane can inject."""

    component: str  # "etcd", "nats", "frontend", "worker": a key of Observed.instances()
    action: str  # "restart", "kill", ...
    inject: Callable[[], None]  # inject, and return when the replacement is Ready (or at once if none comes)
    window_s: float  # seconds of load to keep on after recovery
    window_reason: str  # which lease/timeout the window covers and where the number comes from
    # Whether inject() ends with the component's instance replaced (a kill or restart: the verdict
    # fails an injection that changed nothing), or with one instance gone and none replacing it
    # (a node lost: the others must serve).
    replaced: bool = True

    @property
    def name(self) -> str:
        return f"faults/{self.component}-{self.action}"

    @classmethod
    def watched(cls, component: str, action: str, inject: Callable[[], None]) -> Fault:
        """A fault observed for the component's window in WINDOWS."""
        window = WINDOWS[component]
        return cls(component, action, inject, window.seconds, window.reason)


class Observed(Protocol):
    """A data plane's view of its own components."""

    def instances(self) -> dict[str, str]:
        """Every data-plane component -> what runs for it now, in words that name the pod or process,
        e.g. "process 4242", "pod frontend-7d9f (uid 1a2b, restarts 0)", "process 4242 (exited)". The
        value must change whenever the component restarts, exits or is replaced, and only then."""
        ...

    def exit_reason(self, component: str) -> str:
        """The log line that explains the component's last exit or restart ("" if there is none);
        `explaining_line` picks it from log lines."""
        ...


# Log lines whose cause is known -> what the user should do about it.
KNOWN_CAUSES: list[tuple[str, str]] = [
    ("Unable to maintain lease",
     "Dynamo exits on lease loss when the only etcd member is down longer than the lease (10 s), or when its "
     "reconnects after an etcd restart outlast it; run HA etcd (3 members) or Kubernetes discovery"),
    ("OOMKilled", "the container ran out of memory; raise its memory limit"),
]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ERROR = re.compile(r"error|panic|fatal|exception|traceback|killed", re.IGNORECASE)


def explaining_line(lines: Iterable[str], tail: int = 40) -> str:
    """The line of a log (of one run of a process) that best explains its exit: a known cause,
    else the last error-like line of its last `tail` lines (a shutdown logs a few dozen), else the
    last line."""
    lines = [_ANSI.sub("", line).strip() for line in lines]
    lines = [line for line in lines if line]
    for needle, _ in KNOWN_CAUSES:
        if known := [line for line in lines if needle in line]:
            return known[-1][:400]
    errors = [line for line in lines[-tail:] if _ERROR.search(line)]
    return (errors or lines or [""])[-1][:400]


def advice(line: str) -> str:
    return next((text for needle, text in KNOWN_CAUSES if needle in line), "")


class DataPlane(Observed, Protocol):
    """What `make up`, the bench and the conformance CLI use of a data plane: its lifecycle, what the
    probes dial (an address is None where the plane's wiring has no such service), and for the
    fault probes the faults it offers and its view of its components (Observed)."""

    model: str

    @property
    def frontend_url(self) -> str: ...

    @property
    def etcd_url(self) -> str | None: ...

    @property
    def nats_url(self) -> str | None: ...

    @property
    def nats_monitor_url(self) -> str | None: ...

    def up(self, timeout: float = ...) -> bool:
        """Start it unless a healthy one runs (or converge on it); True if this call started it."""
        ...

    def down(self) -> None: ...

    def healthy(self) -> bool: ...

    def log_tails(self) -> str: ...

    def faults(self) -> list[Fault]: ...
