"""Fault probes on the real embedded data plane: etcd and NATS restarts pass with per-repetition
figures (printed; no timing is asserted), and each way a verdict could be wrong is provoked for
real and must fail with the message that names it: a component exiting during the observation
window, the route to the frontend cut, a request budget too small for the window, a fault that
never heals, and an etcd outage longer than Dynamo's lease. A route gone silent (a killed pod's open
connections) must cost each client one stall limit, not its whole request timeout."""

import dataclasses
import re
import signal
import socket
import threading

import pytest

from dynamo_harness.clusters.apiserver_relay import pump
from dynamo_harness.conformance.faults import REQUEST_TIMEOUT_S, STALL_S, watch
from dynamo_harness.results import Status
from dynamo_harness.dataplane import MODEL, Fault
from dynamo_harness.processes import ephemeral_ports_start, free_port

LEASE_EXIT = "Unable to maintain lease"


def nats_restart(plane, window_s: float, then=None) -> Fault:
    """The plane's NATS restart with a shorter window; `then` runs `after` seconds after the replacement is Ready."""
    fault = next(f for f in plane.faults() if f.component == "nats")

    def inject():
        fault.inject()
        if then is not None:
            threading.Timer(*then).start()

    return dataclasses.replace(fault, inject=inject, window_s=window_s)


@pytest.mark.parametrize("replaced", [True, False])
def test_an_injection_that_changes_nothing_fails_only_where_a_replacement_is_expected(healed, replaced):
    """A kill that killed nothing must not pass as recovered; a lost instance that nothing replaces
    (a node gone: the others serve) is judged on serving alone."""
    fault = Fault("worker", "no-op", lambda: None, 3, "test: a short window", replaced=replaced)
    result, _ = watch(fault, healed.frontend_url, MODEL, healed, repetitions=1, concurrency=2, max_seconds=30)
    print(result.reason)
    assert ("the fault did not replace worker" in result.reason) is replaced, result.reason
    assert (result.status is Status.PASS) is not replaced, result.reason


@pytest.mark.parametrize("component", ["etcd", "nats"])
def test_a_restart_passes_three_times_with_every_request_accounted_for(healed, component):
    fault = next(f for f in healed.faults() if f.component == component)
    result, run = watch(fault, healed.frontend_url, MODEL, healed, repetitions=3, max_seconds=60 + fault.window_s)
    print(f"{result.name}: {result.reason} {result.figures}")
    if component == "etcd" and LEASE_EXIT in result.reason:
        # Seen here with Dynamo 1.3 and one etcd member: after a restart of about a second, its
        # reconnects sometimes outlast the 10 s lease and a process exits. The verdict says so.
        assert "restarted or exited during repetition" in result.reason and result.figures["unaccounted"] == 0
        pytest.skip(f"Dynamo exited on etcd lease loss after a short etcd restart (reported as such): {result.reason}")
    assert result.status is Status.PASS, result.reason
    figures = result.figures
    assert figures["unaccounted"] == 0 and figures["requests"] == figures["completed"] + figures["errors"]
    assert len(figures["recovery_s"]) == len(figures["restart_s"]) == len(figures["errors_per_repetition"]) == 3
    assert all(n > 0 for n in figures["in_flight_at_fault"]), "a fault hit an idle frontend: the probe measured nothing"
    assert sum(figures["errors_per_repetition"]) == figures["errors"] and figures["errors_outside_windows"] == 0
    assert all(r.injected_at < r.recovered_at < r.window_ends_at for r in run.repetitions)
    # window_ends_at is recovered_at + window_s: equal up to float rounding (perf_counter is large)
    assert all(r.window_ends_at - r.recovered_at == pytest.approx(fault.window_s) for r in run.repetitions)


def test_the_frontend_exiting_during_the_window_fails_naming_it_and_its_log_line(healed):
    terminate = (2.0, healed.processes.kill, ("frontend", signal.SIGTERM))
    result, _ = watch(nats_restart(healed, 8, then=terminate), healed.frontend_url, MODEL, healed, repetitions=1,
                      max_seconds=30)
    print(result.reason)
    line = healed.exit_reason("frontend")
    assert result.status is Status.FAIL
    assert "frontend restarted or exited during repetition 1" in result.reason, result.reason
    assert line and repr(line) in result.reason
    assert line in re.sub(r"\x1b\[[0-9;]*m", "", healed.processes.log("frontend").read_text())


class Relay:
    """A TCP relay of the test's own on 127.0.0.1 in front of the frontend; close() cuts the route,
    silence_open_connections() makes the connections open now carry nothing more, as those to a killed
    pod behind a Service do (no reset: nothing answers at its address), while new ones still relay."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = [self.listener]
        self.silenced: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while (data := source.recv(65536)) and source not in self.silenced:
                sink.sendall(data)
        except OSError:
            pass
        if source in self.silenced:
            return  # left open, carrying nothing: the client's own limit ends it
        pump(source, sink)  # the other side closed: close both, as the plain relay does

    def silence_open_connections(self) -> None:
        self.silenced.update(self.sockets[1:])

    def close(self) -> None:
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def test_a_route_cut_during_the_window_fails_saying_the_route_is_gone(healed):
    relay = Relay(healed.ports["frontend"])
    try:
        result, run = watch(nats_restart(healed, 6, then=(1.5, relay.close)), f"http://127.0.0.1:{relay.port}", MODEL,
                            healed, repetitions=1, max_seconds=30)
    finally:
        relay.close()
    print(result.reason)
    assert result.status is Status.FAIL
    assert "the route to the frontend is gone" in result.reason, result.reason
    assert "restarted or exited" not in result.reason  # nothing restarted: the route alone failed
    assert result.figures["unaccounted"] == 0


def test_requests_stuck_on_a_silent_connection_fail_as_stalls_so_recovery_is_the_planes_not_the_clients_timeout(healed):
    """The route to a killed pod goes silent for the connections open to it: each client's request
    on one fails after STALL_S, and the next, on a new connection, is served. Without the stall limit
    every client would wait out REQUEST_TIMEOUT_S and the probe would report that as the recovery."""
    relay = Relay(healed.ports["frontend"])
    fault = Fault("frontend", "silenced", relay.silence_open_connections, 3, "test: a short window", replaced=False)
    try:
        result, run = watch(fault, f"http://127.0.0.1:{relay.port}", MODEL, healed, repetitions=1, concurrency=2,
                            max_seconds=REQUEST_TIMEOUT_S)
    finally:
        relay.close()
    print(result.reason, result.figures)
    assert result.status is Status.PASS, result.reason
    figures = result.figures
    assert figures["stall_s"] == STALL_S and set(figures["error_kinds"]) == {"SocketTimeoutError"}, figures
    assert figures["unaccounted"] == 0 and figures["errors_outside_windows"] == 0, figures
    (stalled, *_) = run.repetitions[0].errors
    assert stalled.ended - stalled.started == pytest.approx(STALL_S, abs=2), stalled
    assert figures["recovery_s"][0] < REQUEST_TIMEOUT_S - STALL_S, figures


def test_a_budget_too_small_for_the_window_fails_saying_it_ran_out(healed):
    fault = next(f for f in healed.faults() if f.component == "nats")
    result, run = watch(fault, healed.frontend_url, MODEL, healed, repetitions=3, max_requests=40, max_seconds=60)
    print(result.reason)
    assert result.status is Status.FAIL
    assert "repetition 1: the request budget ran out: all 40 requests were started" in result.reason, result.reason
    assert "without observing the window" in result.reason and "deadline" not in result.reason
    assert len(run.repetitions) == 1 and run.repetitions[0].requests == 40 and run.repetitions[0].window_ends_at is None


def test_a_fault_that_never_heals_fails_as_no_recovery_at_its_deadline(healed):
    fault = Fault("worker", "kill", lambda: healed.kill("worker"), 5, "test: a short window")
    result, run = watch(fault, healed.frontend_url, MODEL, healed, repetitions=1, concurrency=2, max_seconds=5)
    print(result.reason)
    assert result.status is Status.FAIL
    assert "no recovery: the deadline of 5.0 s after the fault passed" in result.reason, result.reason
    assert result.figures["errors"] > 0 and result.figures["unaccounted"] == 0
    # Failed requests were paced, not spun: at most one per client per back-off step on average.
    assert result.figures["requests"] < 200, result.figures


def test_an_etcd_outage_longer_than_the_lease_names_dynamos_lease_exit_and_the_fix(healed):
    def outage():
        healed.kill("etcd")
        threading.Event().wait(30)  # longer than the lease (10 s) and every retry after it
        healed.start("etcd")

    fault = Fault.watched("etcd", "outage", outage)
    result, _ = watch(fault, healed.frontend_url, MODEL, healed, repetitions=1, max_seconds=35)
    print(result.reason)
    for name in ("frontend", "worker"):  # whichever outlived its lease is not to be trusted: both start afresh
        healed.kill(name)
    assert result.status is Status.FAIL
    assert "restarted or exited during repetition 1" in result.reason, result.reason  # the worker, the frontend or both
    assert LEASE_EXIT in result.reason
    assert "run HA etcd (3 members) or Kubernetes discovery" in result.reason


def test_a_restarted_component_finds_its_port_free_of_other_connections():
    """A component restarts on its saved port: every port the plane saves lies below the kernel's
    ephemeral range, which outgoing connections (the load's own among them) draw from."""
    ephemeral_start = ephemeral_ports_start()
    ports = {free_port() for _ in range(50)}
    assert all(ephemeral_start // 2 <= port < ephemeral_start for port in ports), sorted(ports)
    with socket.socket() as client, socket.create_server(("127.0.0.1", 0)) as server:
        client.connect(server.getsockname())
        assert client.getsockname()[1] >= ephemeral_start  # where the kernel puts a client's own port
