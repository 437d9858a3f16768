"""The acknowledged-write reckoning of the HA faults (dynamo_harness/ha/writes.py): a service that
was never read back in full proves nothing, so its writes are neither lost nor kept in the figures
or in the report's table. A fault whose repair did not heal shows what the members last warned of."""

from dynamo_harness.ha import report
from dynamo_harness.ha.writes import Stream


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
