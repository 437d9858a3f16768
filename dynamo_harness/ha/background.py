"""A bounded load that runs in a thread of its own while a fault is injected: start(), then stop()."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable


class BackgroundLoad:
    """Subclasses write `_run()`, a coroutine that returns once `stopping` is set or its own bound is
    reached; `clock` is what their samples are timed with, `started_at` is on that clock."""

    clock: Callable[[], float] = staticmethod(time.monotonic)
    stop_timeout_s: float = 60  # how long stop() waits for the loop's last request or write

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started_at = 0.0

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        self.started_at = self.clock()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.stop_timeout_s)

    async def _run(self) -> None:
        raise NotImplementedError
