"""The acknowledged-write reckoning of the HA faults (dynamo_harness/ha/writes.py): a service that
was never read back in full proves nothing, so its writes are neither lost nor kept in the figures
or in the report's table. A fault whose repair did not heal shows what the members last warned of.
The JetStream read-back waits, bounded, while a real nats-server (on 127.0.0.1) answers its API
with no responders, as a server does until its JetStream is up again."""

import asyncio
import time

import pytest
from nats.js.errors import ServiceUnavailableError

from dynamo_harness.ha import report
from dynamo_harness.ha.writes import AckedWrites, Stream
from dynamo_harness.paths import venv_tool
from dynamo_harness.processes import Supervisor, accepts, free_port
from dynamo_harness.kube import wait_for


def acked_stream() -> Stream:
    stream = Stream("jetstream", sent=3)
    stream.acked = {"run-000000": 1.0, "run-000001": 2.0}
    stream.failed = [(2.5, "TimeoutError")]
    return stream


def test_a_stream_not_read_back_counts_no_write_lost_or_kept():
    figures = acked_stream().figures(since=0.0)
    assert figures["lost"] is None and figures["stored_unacked"] is None and figures["lost_examples"] == []
    assert "**lost unknown (no read-back)**" in report._writes(figures)


def test_a_stream_read_back_counts_each_acknowledged_write_missing_from_it():
    stream = acked_stream()
    stream.read_back = {"run-000001", "run-000002"}  # run-000002 was stored without its ack reaching us
    figures = stream.figures(since=0.0)
    assert (figures["lost"], figures["lost_examples"], figures["stored_unacked"]) == (1, ["run-000000"], 1)
    assert "**1 lost**" in report._writes(figures)


def test_a_fault_whose_repair_did_not_heal_shows_the_members_last_warnings():
    figures = acked_stream().figures(since=0.0)
    fault = {"fault": "faults/node-two-of-three", "nodes": ["worker"], "members_hit": {"nats": ["nats-1"]},
             "quorum_kept": {"nats": False}, "writes": {"etcd": figures, "jetstream": figures}, "requests": None,
             "recovery_s": None, "restarted": {}, "notes": [], "ok": False,
             "problems": ["TimeoutError: not healthy 360 s after the repair"],
             "member_warnings": {"nats": {"nats-0": [], "nats-1": ["[WRN] Catchup for stream 'HA' stalled"]}}}
    (row,) = report.fault_rows([fault])[2:]
    assert "the members' last warnings: nats-1: [WRN] Catchup for stream 'HA' stalled)" in row
    assert "nats-0" not in row.split("warnings")[-1]


def _nats_server(tmp_path, jetstream: bool) -> tuple[Supervisor, str]:
    port = free_port()
    supervisor = Supervisor(tmp_path / "nats")
    supervisor.start("nats", [str(venv_tool("nats-server")), "-a", "127.0.0.1", "-p", str(port),
                              *(["-js", "-sd", str(tmp_path / "js")] if jetstream else [])])
    wait_for(lambda: accepts("127.0.0.1", port), "nats-server to listen", 20, 0.1)
    return supervisor, f"nats://127.0.0.1:{port}"


async def _publish(url: str, stream: str, subject: str, payloads: list[str]) -> None:
    import nats
    from nats.js.api import StreamConfig

    client = await nats.connect(url)
    try:
        js = client.jetstream()
        await js.add_stream(StreamConfig(name=stream, subjects=[f"{stream}.>"]))
        for payload in payloads:
            await js.publish(subject, payload.encode())
    finally:
        await client.close()


def test_the_jetstream_read_back_reads_every_message_of_the_run(tmp_path):
    supervisor, url = _nats_server(tmp_path, jetstream=True)
    try:
        writes = AckedWrites("http://127.0.0.1:1", url, stream="HA", run_id="run")
        asyncio.run(_publish(url, "HA", "HA.run", ["run-000000", "run-000001"]))
        asyncio.run(_publish(url, "HA", "HA.other", ["other-000000"]))
        asyncio.run(writes._read_back_jetstream())
    finally:
        supervisor.stop(["nats"])
    assert writes.jetstream.read_back == {"run-000000", "run-000001"}
    assert writes.jetstream.figures(since=0.0)["read_back_waited_s"] == 0.0


def test_a_jetstream_that_stays_unavailable_fails_the_read_back_after_the_bound_and_proves_nothing(tmp_path):
    supervisor, url = _nats_server(tmp_path, jetstream=False)  # its JetStream API has no responders
    writes = AckedWrites("http://127.0.0.1:1", url, stream="HA", run_id="run")
    started = time.monotonic()
    try:
        with pytest.raises(ServiceUnavailableError):
            asyncio.run(writes._read_back_jetstream(unavailable_s=3))
    finally:
        supervisor.stop(["nats"])
    assert time.monotonic() - started >= 3
    figures = writes.jetstream.figures(since=0.0)
    assert figures["lost"] is None and figures["read_back_waited_s"] >= 3
    assert "read-back refused for" in report._writes(figures)
