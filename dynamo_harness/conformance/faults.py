"""Fault probes: restart a data-plane component while the frontend serves a steady load.

Every request started is accounted for: it either completes or ends in an error the probe
records (HTTP status, broken stream, timeout), so nothing is lost silently. The probe reports
the requests in flight when the fault hit, the errors it caused, and the recovery time: from the
fault to the first of `streak` consecutive successful requests started after it. The load is
bounded by a request count and a deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from .inference import Sample, one_request
from .result import Outcome, ProbeResult, failed, passed, timed


@dataclass
class FaultRun:
    samples: list[Sample] = field(default_factory=list)
    started: int = 0  # requests sent; every one must end up in samples
    fault_at: float = 0.0
    restored_at: float = 0.0  # when the component answered its readiness check again
    in_flight_at_fault: int = 0
    recovered_at: float | None = None

    def figures(self) -> dict:
        errors = [s for s in self.samples if not s.ok]
        kinds = Counter(s.error.split(":", 1)[0] for s in errors)
        return {
            "requests": self.started,
            "completed": len(self.samples) - len(errors),
            "errors": len(errors),
            "unaccounted": self.started - len(self.samples),
            "in_flight_at_fault": self.in_flight_at_fault,
            "restart_s": round(self.restored_at - self.fault_at, 3),
            "recovery_s": round(self.recovered_at - self.fault_at, 3) if self.recovered_at else None,
            "error_kinds": dict(kinds),
        }


async def _run(url: str, model: str, inject: Callable[[], None], concurrency: int, max_requests: int,
               max_seconds: float, streak: int, warmup_s: float, max_tokens: int) -> FaultRun:
    run = FaultRun()
    in_flight = 0
    stop = asyncio.Event()
    deadline = time.perf_counter() + max_seconds
    successes_after_fault: list[Sample] = []

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal in_flight
        while not stop.is_set() and run.started < max_requests and time.perf_counter() < deadline:
            run.started += 1
            in_flight += 1
            try:
                sample = await one_request(session, url, model, "chat", max_tokens)
            finally:
                in_flight -= 1
            run.samples.append(sample)
            if run.fault_at and sample.started > run.fault_at:
                if sample.ok:
                    successes_after_fault.append(sample)
                else:
                    successes_after_fault.clear()
                if len(successes_after_fault) >= streak and run.restored_at:
                    run.recovered_at = successes_after_fault[0].started
                    stop.set()

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as session:
        clients = [asyncio.create_task(client(session)) for _ in range(concurrency)]
        await asyncio.sleep(warmup_s)
        run.fault_at = time.perf_counter()
        run.in_flight_at_fault = in_flight
        await asyncio.get_running_loop().run_in_executor(None, inject)
        run.restored_at = time.perf_counter()
        await asyncio.gather(*clients)  # ends at recovery, the request bound or the deadline
    return run


def restart_while_serving(component: str, url: str, model: str, inject: Callable[[], None], *, concurrency: int = 4,
                          max_requests: int = 5000, max_seconds: float = 90, streak: int = 10, warmup_s: float = 1.0,
                          max_tokens: int = 16) -> tuple[ProbeResult, FaultRun | None]:
    """Run load, call inject() (e.g. kill and restart etcd) once warm, and measure the recovery."""
    run: FaultRun | None = None

    def check() -> Outcome:
        nonlocal run
        run = asyncio.run(_run(url, model, inject, concurrency, max_requests, max_seconds, streak, warmup_s, max_tokens))
        figures = run.figures()
        if figures["unaccounted"]:
            return failed(f"{figures['unaccounted']} requests neither completed nor failed", **figures)
        if run.recovered_at is None:
            return failed(f"no {streak} consecutive successes within {max_seconds:.0f}s of the restart", **figures)
        return passed(f"recovered {figures['recovery_s']}s after the fault; {figures['errors']} of "
                      f"{figures['requests']} requests failed, each recorded", **figures)

    return timed(f"faults/{component}-restart", check), run
