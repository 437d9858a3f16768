"""Fault probes: inject a fault into a data-plane component while the frontend serves a steady load,
and watch long enough that the verdict describes what a user would see.

One probe per `Fault`, repeated `repetitions` times under one continuous load:

    warm up | inject -> recovery -> observation window | inject -> ... | drain

- Recovery: the first of `streak` consecutive successful requests started after the injection
  (for a fault that leaves an instance unreplaced, `Fault.replaced` False: started after inject()
  returned, when the plane has let the lost instance go).
- Observation window: `Fault.window_s` more seconds of load after recovery, covering the lease or
  timeout that could still take a component down late (e.g. Dynamo's 10 s etcd lease: a frontend
  that lost its lease keeps serving from its cache, then exits). A request started in the window
  that fails is a relapse.
- Every data-plane component's instance (`Observed.instances()`) is recorded before the
  injection, once the replacement is Ready, and at the end of the window. Any other component that
  restarted or exited, or a replacement that did not stay up, fails the probe, naming it and the
  log line that explains it (`Observed.exit_reason`), with advice for the causes in KNOWN_CAUSES.
- Every request started is accounted for: it completes or ends in an error the probe records.
  Each error belongs to the repetition during which it ended (injection to end of window); errors
  before the first injection or between repetitions are reported apart.
- Bounds, per repetition: `max_requests` started from its injection on, and `max_seconds` from its
  injection on. Running out of either fails the probe and says which; the probe never claims a
  window it did not observe. After a failed request its client backs off (up to BACKOFF_MAX_S),
  so a dead route costs requests per second, not the whole budget at once.
- Stalls: a request that connects or reads nothing for STALL_S fails as a stall. A connection to a
  killed pod's address is never reset (nothing answers there), so without this limit each request in
  flight at the kill would wait out REQUEST_TIMEOUT_S and the recovery would measure the client's
  patience, not the plane: every client stuck at once means no request starts until they give up.

A data plane offers faults and its own view of its components through two small shapes that
dynamo_harness.dataplane defines: `Fault` (what to inject, how long to watch) and `Observed`
(instances, exit reasons). The embedded processes (dataplane.embedded) and the in-cluster pods
(dataplane.in_cluster) implement both.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from ..dataplane import Fault, Observed, advice
from ..results import Outcome, ProbeResult, failed, passed, timed
from .inference import Sample, one_request


# -- the run -------------------------------------------------------------------------------------

STALL_S = 5.0  # no bytes for this long: the connection leads nowhere (a mocker answers 16 tokens in well under 1 s)
REQUEST_TIMEOUT_S = 30.0
BACKOFF_S = 0.05  # first pause of a client after a failed request; doubles per failure in a row
BACKOFF_MAX_S = 0.5
_POLL_S = 0.05
_CONNECTION_ERRORS = ("ClientConnectorError", "ServerDisconnectedError", "ClientOSError")


@dataclass
class Repetition:
    number: int
    injected_at: float
    in_flight_at_fault: int
    before: dict[str, str]  # instances before the injection
    replaced: dict[str, str] = field(default_factory=dict)  # once inject() returned
    after: dict[str, str] = field(default_factory=dict)  # at the end of the window
    restored_at: float | None = None  # inject() returned: the replacement is Ready
    recovered_at: float | None = None
    window_ends_at: float | None = None
    ended_at: float | None = None
    requests: int = 0  # started from the injection on: the budget counts these
    errors: list[Sample] = field(default_factory=list)
    relapses: list[Sample] = field(default_factory=list)  # failed, though started after recovery
    streak: list[Sample] = field(default_factory=list)
    stopped: str = ""  # "budget", "deadline" or "inject: <error>" when it ended early
    stopped_at: float | None = None

    def since_fault(self, at: float | None) -> float | None:
        return None if at is None else round(at - self.injected_at, 3)


@dataclass
class FaultRun:
    fault: Fault
    repetitions: list[Repetition] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    started: int = 0  # requests sent; every one must end up in samples
    started_at: float = 0.0
    errors_outside: list[Sample] = field(default_factory=list)  # before the first injection or between repetitions

    def figures(self) -> dict:
        errors = [s for s in self.samples if not s.ok]
        reps = self.repetitions
        figures: dict = {
            "repetitions": len(reps),
            "window_s": self.fault.window_s,
            "stall_s": STALL_S,
            "window_reason": self.fault.window_reason,
            "requests": self.started,
            "completed": len(self.samples) - len(errors),
            "errors": len(errors),
            "unaccounted": self.started - len(self.samples),
            "errors_per_repetition": [len(r.errors) for r in reps],
            "errors_outside_windows": len(self.errors_outside),
            "in_flight_at_fault": [r.in_flight_at_fault for r in reps],
            "restart_s": [r.since_fault(r.restored_at) for r in reps],
            "recovery_s": [r.since_fault(r.recovered_at) for r in reps],
            "error_kinds": dict(Counter(error_kind(s) for s in errors)),
        }
        for key in ("restart_s", "recovery_s"):
            values = [v for v in figures[key] if v is not None]
            if values:
                figures[f"{key}_min/median/max"] = [min(values), round(statistics.median(values), 3), max(values)]
        return figures


def error_kind(sample: Sample) -> str:
    return sample.error.split(":", 1)[0]


async def _run(fault: Fault, url: str, model: str, observed: Observed, repetitions: int, concurrency: int,
               max_requests: int, max_seconds: float, streak: int, warmup_s: float, max_tokens: int) -> FaultRun:
    run = FaultRun(fault, started_at=time.perf_counter())
    current: Repetition | None = None
    in_flight = 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def record(sample: Sample) -> None:
        run.samples.append(sample)
        rep = current
        if sample.ok or rep is None or sample.ended < rep.injected_at or rep.ended_at is not None:
            if not sample.ok:
                run.errors_outside.append(sample)
        else:
            rep.errors.append(sample)
        if rep is None or sample.started < rep.injected_at:
            return
        if rep.recovered_at is not None:
            if not sample.ok and sample.started >= rep.recovered_at:
                rep.relapses.append(sample)
            return
        if not sample.ok:
            rep.streak.clear()
            return
        if not fault.replaced and (rep.restored_at is None or sample.started < rep.restored_at):
            return  # an instance lost for good: serving counts from when the plane let it go (inject returned)
        rep.streak.append(sample)
        if len(rep.streak) >= streak and rep.restored_at is not None:
            rep.recovered_at = rep.streak[0].started

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal in_flight
        backoff = BACKOFF_S
        while not stop.is_set():
            rep = current
            if rep is not None and rep.requests >= max_requests:
                if not rep.stopped:
                    rep.stopped, rep.stopped_at = "budget", time.perf_counter()
                stop.set()
                return
            run.started += 1
            if rep is not None:
                rep.requests += 1
            in_flight += 1
            try:
                sample = await one_request(session, url, model, "chat", max_tokens)
            finally:
                in_flight -= 1
            record(sample)
            if sample.ok:
                backoff = BACKOFF_S
                continue
            try:  # pace retries, so a dead route does not burn the budget in a spin
                await asyncio.wait_for(stop.wait(), backoff)
            except asyncio.TimeoutError:
                pass
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def until(done: Callable[[], bool], deadline: float, rep: Repetition) -> bool:
        """Wait for done(); False, with the repetition marked, on the deadline or a stop."""
        while not done():
            if stop.is_set():
                return False
            if time.perf_counter() >= deadline:
                if not rep.stopped:
                    rep.stopped, rep.stopped_at = "deadline", time.perf_counter()
                return False
            await asyncio.sleep(_POLL_S)
        return True

    async def observe() -> dict[str, str]:
        return await loop.run_in_executor(None, observed.instances)

    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S, sock_connect=STALL_S, sock_read=STALL_S)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as session:
        clients = [asyncio.create_task(client(session)) for _ in range(concurrency)]
        await asyncio.sleep(warmup_s)
        for number in range(1, repetitions + 1):
            before = await observe()
            rep = Repetition(number, time.perf_counter(), in_flight, before)
            run.repetitions.append(rep)
            current = rep
            deadline = rep.injected_at + max_seconds
            try:
                await loop.run_in_executor(None, fault.inject)
            except Exception as err:  # noqa: BLE001 - a failed injection is the verdict, not a crash
                rep.stopped = f"inject: {type(err).__name__}: {err}"
            else:
                rep.restored_at = time.perf_counter()
                rep.replaced = await observe()
                if await until(lambda: rep.recovered_at is not None, deadline, rep):
                    window_end = rep.recovered_at + fault.window_s
                    if await until(lambda: time.perf_counter() >= window_end, deadline, rep):
                        rep.window_ends_at = window_end
            rep.after = await observe()
            if rep.window_ends_at is None or stop.is_set() or number == repetitions:
                break
            if rep.relapses or collateral(rep, fault.component):
                break  # the verdict is a failure already; more repetitions would only wait on a broken plane
            rep.ended_at = time.perf_counter()
        stop.set()
        await asyncio.gather(*clients)  # in-flight requests finish; they belong to the last repetition
        if current is not None:
            current.ended_at = time.perf_counter()
    return run


# -- the verdict ---------------------------------------------------------------------------------

def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _route_hint(url: str, errors: list[Sample]) -> str:
    """Why the last error happened, when it was the connection itself that failed."""
    if errors and error_kind(errors[-1]) in _CONNECTION_ERRORS:
        return (f"; the last could not connect to {url}: the route to the frontend is gone (a port-forward, "
                "proxy or Service that no longer leads to a serving pod) or the frontend is down")
    return ""


def collateral(rep: Repetition, faulted: str) -> dict[str, tuple[str, str]]:
    """Component -> (instance, instance at the end) for every one that restarted or exited during the
    repetition, other than the faulted component's replacement itself."""
    changed = {c: (rep.before[c], now) for c, now in rep.after.items()
               if c != faulted and c in rep.before and rep.before[c] != now}
    if faulted in rep.replaced and faulted in rep.after and rep.replaced[faulted] != rep.after[faulted]:
        changed[faulted] = (rep.replaced[faulted], rep.after[faulted])
    return changed


def _crashes(run: FaultRun, observed: Observed) -> list[str]:
    """What restarted or exited besides the fault's own replacement, with the line that explains it."""
    problems = []
    own = run.fault.component
    for rep in run.repetitions:
        for component, (was, now) in sorted(collateral(rep, own).items()):
            line = observed.exit_reason(component)
            explained = f": {line!r}" if line else " (no log line explains it)"
            hint = f" -> {advice(line)}" if advice(line) else ""
            problems.append(f"{component} restarted or exited during repetition {rep.number} ({was} -> {now})"
                            f"{explained}{hint}")
        if (run.fault.replaced and own in rep.before and own in rep.replaced and rep.before[own] == rep.replaced[own]
                and not rep.stopped):
            problems.append(f"the fault did not replace {own} in repetition {rep.number} (still {rep.before[own]})")
    return problems


def _repetition_problems(rep: Repetition, fault: Fault, url: str, max_requests: int, max_seconds: float,
                         streak: int) -> list[str]:
    where = f"repetition {rep.number}"
    if rep.stopped.startswith("inject"):
        return [f"{where}: the fault could not be injected ({rep.stopped.removeprefix('inject: ')})"]
    if rep.stopped == "budget":
        stage = ("before recovery" if rep.recovered_at is None else
                 f"{_seconds(rep.stopped_at - rep.recovered_at)} into the {_seconds(fault.window_s)} observation window")
        return [f"{where}: the request budget ran out: all {max_requests} requests were started "
                f"{_seconds(rep.stopped_at - rep.injected_at)} after the fault, {stage}, so the probe stopped "
                f"without observing the window (raise max_requests)"]
    problems = []
    if rep.recovered_at is None:
        last = rep.errors[-1].error if rep.errors else "no request completed"
        reason = ("the deadline of " + _seconds(max_seconds) + " after the fault passed" if rep.stopped == "deadline"
                  else "the run stopped")
        problems.append(f"{where}: no recovery: {reason} before {streak} consecutive requests succeeded "
                        f"(last error: {last[:160]}){_route_hint(url, rep.errors)}")
    elif rep.stopped == "deadline":
        problems.append(f"{where}: the deadline of {_seconds(max_seconds)} after the fault passed "
                        f"{_seconds(rep.injected_at + max_seconds - rep.recovered_at)} into the "
                        f"{_seconds(fault.window_s)} observation window: raise max_seconds")
    if rep.relapses:
        first = rep.relapses[0]
        problems.append(f"{where}: served again {_seconds(rep.recovered_at - rep.injected_at)} after the fault, then "
                        f"{len(rep.relapses)} requests started in the observation window failed, the first "
                        f"{_seconds(first.started - rep.recovered_at)} after recovery ({first.error[:160]})"
                        f"{_route_hint(url, rep.relapses)}")
    return problems


def verdict(run: FaultRun, observed: Observed, url: str, *, repetitions: int, max_requests: int, max_seconds: float,
            streak: int) -> Outcome:
    figures = run.figures()
    problems = []
    if figures["unaccounted"]:
        problems.append(f"{figures['unaccounted']} requests neither completed nor failed")
    problems += _crashes(run, observed)
    for rep in run.repetitions:
        problems += _repetition_problems(rep, run.fault, url, max_requests, max_seconds, streak)
    if run.errors_outside:
        first_injection = run.repetitions[0].injected_at if run.repetitions else float("inf")
        before = sum(s.ended < first_injection for s in run.errors_outside)
        problems.append(f"requests failed outside every fault's window, so the plane was not serving steadily: "
                        f"{before} before the first injection, {len(run.errors_outside) - before} between "
                        f"repetitions (first: {run.errors_outside[0].error[:160]})")
    if not problems and len(run.repetitions) < repetitions:
        problems.append(f"only {len(run.repetitions)} of {repetitions} repetitions ran")
    if problems:
        return failed("; ".join(problems), **figures)
    low, median, high = figures["recovery_s_min/median/max"]
    count = len(run.repetitions)
    return passed(f"{count} repetition{'s' * (count != 1)}: recovered {low}/{median}/{high} s (min/median/max) after "
                  f"the fault, then served the {_seconds(run.fault.window_s)} observation window without a failure "
                  f"while no other component restarted; {figures['errors']} of {figures['requests']} requests failed, "
                  f"each recorded and within its fault's window", **figures)


def watch(fault: Fault, url: str, model: str, observed: Observed, *, repetitions: int = 3, concurrency: int = 4,
          max_requests: int = 5000, max_seconds: float = 90, streak: int = 10, warmup_s: float = 1.0,
          max_tokens: int = 16) -> tuple[ProbeResult, FaultRun | None]:
    """Inject `fault` `repetitions` times under load and judge recovery, relapses and collateral exits.
    `max_requests` and `max_seconds` bound each repetition from its injection on."""
    run: FaultRun | None = None

    def check() -> Outcome:
        nonlocal run
        run = asyncio.run(_run(fault, url, model, observed, repetitions, concurrency, max_requests, max_seconds,
                               streak, warmup_s, max_tokens))
        return verdict(run, observed, url, repetitions=repetitions, max_requests=max_requests,
                       max_seconds=max_seconds, streak=streak)

    return timed(fault.name, check), run
