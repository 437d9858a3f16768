"""The one result model every probe returns and every view (console, JUnit, HTML) reads."""

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


def passed(name: str, reason: str = "", **figures: Any) -> ProbeResult:
    return ProbeResult(name, Status.PASS, reason, figures)


def failed(name: str, reason: str, **figures: Any) -> ProbeResult:
    return ProbeResult(name, Status.FAIL, reason, figures)


def skipped(name: str, reason: str) -> ProbeResult:
    return ProbeResult(name, Status.SKIP, reason)


def timed(name: str, check: Callable[[], ProbeResult]) -> ProbeResult:
    """Run one check; an exception becomes a failure naming the check, never a crash."""
    started = time.monotonic()
    try:
        result = check()
    except Exception as err:  # noqa: BLE001 - a probe reports, it does not raise
        result = failed(name, f"{type(err).__name__}: {err}")
    result.seconds = time.monotonic() - started
    return result
