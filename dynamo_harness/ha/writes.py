"""A bounded write load on etcd and JetStream that records every acknowledgement, and the reckoning:
lost = acknowledged by the service, yet not readable after recovery.

etcd: puts through etcd's HTTP gateway (/v3/kv/put; 200 with a revision is the acknowledgement).
JetStream: publishes through nats-py (a PubAck with a sequence is the acknowledgement). Both run
one write at a time per service, each with a short timeout, until stopped or `max_writes` each;
a write that times out or errors is counted as failed (it may still have been stored: it is then
"stored unacknowledged", never "lost").
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field

from .background import BackgroundLoad

WRITE_TIMEOUT_S = 2.0
# A server that has just come back answers JetStream's API only once its JetStream is up again:
# until then a request has no responders (nats-py: ServiceUnavailableError). The read-back asks
# again this long, and the figures say how long it waited.
READ_BACK_UNAVAILABLE_S = 60.0
PAUSE_S = 0.02  # between writes: a few dozen a second each, enough to time an outage to ~0.1 s


@dataclass
class Stream:
    """One service's writes: sent, acknowledged (id -> ack time), failures, and the read-back."""

    name: str
    sent: int = 0
    acked: dict[str, float] = field(default_factory=dict)
    failed: list[tuple[float, str]] = field(default_factory=list)  # (time, error kind)
    read_back: set[str] | None = None  # None: never read back in full, so nothing is proven lost or kept
    read_back_waited_s: float = 0.0  # how long the service refused the read-back (unavailable) before it began

    def figures(self, since: float) -> dict:
        reckoned = self.read_back is not None
        lost = sorted(set(self.acked) - self.read_back) if reckoned else []
        stored_unacked = len(self.read_back - set(self.acked)) if reckoned else None
        times = sorted(self.acked.values())
        gaps = [b - a for a, b in zip(times, times[1:])]
        errors: dict[str, int] = {}
        for _, kind in self.failed:
            errors[kind] = errors.get(kind, 0) + 1
        return {"sent": self.sent, "acked": len(self.acked), "failed": len(self.failed), "lost": len(lost) if reckoned else None,
                "lost_examples": lost[:5], "stored_unacked": stored_unacked,
                "longest_ack_gap_s": round(max(gaps, default=0.0), 2), "errors": errors,
                "read_back_waited_s": round(self.read_back_waited_s, 1),
                "first_failure_s": round(self.failed[0][0] - since, 2) if self.failed else None,
                "last_failure_s": round(self.failed[-1][0] - since, 2) if self.failed else None}


class AckedWrites(BackgroundLoad):
    """Runs the load in a thread of its own: start(), then stop() and reckon() after recovery."""

    def __init__(self, etcd_url: str, nats_url: str, stream: str, run_id: str, max_writes: int = 20000):
        super().__init__()
        self.etcd_url, self.nats_url, self.stream, self.run_id = etcd_url, nats_url, stream, run_id
        self.max_writes = max_writes
        self.etcd = Stream("etcd")
        self.jetstream = Stream("jetstream")

    @property
    def prefix(self) -> str:
        return f"/ha/{self.run_id}/"

    async def _run(self) -> None:
        await asyncio.gather(self._etcd_loop(), self._jetstream_loop())

    async def _etcd_loop(self) -> None:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=WRITE_TIMEOUT_S)
        # A connection per put: the NodePort picks a member per connection, as a new client would.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            while not self.stopping and self.etcd.sent < self.max_writes:
                key = f"{self.prefix}{self.etcd.sent:06d}"
                self.etcd.sent += 1
                body = {"key": _b64(key), "value": _b64(key)}
                try:
                    async with session.post(f"{self.etcd_url}/v3/kv/put", json=body) as response:
                        answer = await response.json(content_type=None)
                        if response.status == 200 and "header" in answer:
                            self.etcd.acked[key] = time.monotonic()
                        else:
                            self.etcd.failed.append((time.monotonic(), f"http {response.status}"))
                except Exception as err:  # noqa: BLE001 - every failure is a figure
                    self.etcd.failed.append((time.monotonic(), type(err).__name__))
                await asyncio.sleep(PAUSE_S)

    async def _jetstream_loop(self) -> None:
        import nats

        # Pings every 2 s: a frozen server (no FIN) is noticed in seconds, not nats-py's default 4 min.
        client = await nats.connect(self.nats_url, connect_timeout=1, reconnect_time_wait=0.2,
                                    max_reconnect_attempts=-1, allow_reconnect=True, ping_interval=2,
                                    max_outstanding_pings=2)
        js = client.jetstream(timeout=WRITE_TIMEOUT_S)
        try:
            while not self.stopping and self.jetstream.sent < self.max_writes:
                payload = f"{self.run_id}-{self.jetstream.sent:06d}"
                self.jetstream.sent += 1
                try:
                    ack = await js.publish(f"{self.stream}.{self.run_id}", payload.encode())
                    if ack.seq:
                        self.jetstream.acked[payload] = time.monotonic()
                except Exception as err:  # noqa: BLE001 - every failure is a figure
                    self.jetstream.failed.append((time.monotonic(), type(err).__name__))
                    await asyncio.sleep(PAUSE_S * 5)
                await asyncio.sleep(PAUSE_S)
        finally:
            await client.close()

    def reckon(self) -> dict:
        """Read everything back (linearizable etcd range; every message of this run's subject) and
        return the figures of both services."""
        asyncio.run(self._read_back())
        return self.figures()

    def figures(self) -> dict:
        """Both services' figures; "lost" is None for a service not read back in full."""
        return {"etcd": self.etcd.figures(self.started_at), "jetstream": self.jetstream.figures(self.started_at)}

    async def _read_back(self) -> None:
        import aiohttp

        end = self.prefix[:-1] + chr(ord(self.prefix[-1]) + 1)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.post(f"{self.etcd_url}/v3/kv/range",
                                    json={"key": _b64(self.prefix), "range_end": _b64(end), "keys_only": True}) as response:
                answer = await response.json(content_type=None)
        self.etcd.read_back = {base64.b64decode(kv["key"]).decode() for kv in answer.get("kvs", [])}
        await self._read_back_jetstream()

    async def _read_back_jetstream(self, unavailable_s: float = READ_BACK_UNAVAILABLE_S) -> None:
        from nats.js.errors import ServiceUnavailableError

        started = time.monotonic()
        while True:
            try:
                await self._read_stream()
                return
            except ServiceUnavailableError:
                self.jetstream.read_back_waited_s = time.monotonic() - started
                if self.jetstream.read_back_waited_s > unavailable_s:
                    raise
                await asyncio.sleep(2)

    async def _read_stream(self) -> None:
        import nats
        from nats.js.api import AckPolicy, ConsumerConfig

        client = await nats.connect(self.nats_url, connect_timeout=2)
        try:
            js = client.jetstream(timeout=10)
            # No acks: an acked consumer stops delivering at max_ack_pending (1000) unacked messages.
            subscription = await js.pull_subscribe(f"{self.stream}.{self.run_id}", durable=None,
                                                   config=ConsumerConfig(ack_policy=AckPolicy.NONE))
            read_back: set[str] = set()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    batch = await subscription.fetch(500, timeout=3)
                except asyncio.TimeoutError:  # nats-py raises its own subclass, or asyncio's
                    if (await subscription.consumer_info()).num_pending == 0:
                        break
                    continue
                read_back.update(m.data.decode() for m in batch)
            else:
                raise TimeoutError("the stream's messages were not all read back within 120 s")
            self.jetstream.read_back = read_back
        finally:
            await client.close()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
