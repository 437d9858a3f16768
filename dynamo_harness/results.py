"""The one result model every probe returns and every view (console, JUnit, HTML) reads. It sits at the
base of the package: clusters, both data planes, the probes and `make up` all return ProbeResults."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # not applicable here; the reason says why


@dataclass
class ProbeResult:
    name: str  # "<component>/<check>", e.g. "nats/jetstream-roundtrip"
    status: Status
    reason: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def component(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAIL


@dataclass(frozen=True)
class Outcome:
    """What a check found; `timed` gives it the probe's name and duration."""

    status: Status
    reason: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


def passed(reason: str = "", **figures: Any) -> Outcome:
    return Outcome(Status.PASS, reason, figures)


def failed(reason: str, **figures: Any) -> Outcome:
    return Outcome(Status.FAIL, reason, figures)


def skipped(reason: str) -> Outcome:
    return Outcome(Status.SKIP, reason)


def timed(name: str, check: Callable[[], Outcome]) -> ProbeResult:
    """Run one check under its name; an exception becomes a failure naming the check, never a crash."""
    started = time.monotonic()
    try:
        outcome = check()
    except Exception as err:  # noqa: BLE001 - a probe reports, it does not raise
        outcome = failed(f"{type(err).__name__}: {err}")
    return ProbeResult(name, outcome.status, outcome.reason, dict(outcome.figures), time.monotonic() - started)
