"""Server-sent events, parsed as the spec says: fields per line, events end at a blank line."""

from __future__ import annotations

from collections.abc import AsyncIterator

DONE = "[DONE]"


async def events(lines: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Yield the data of each event (multi-line data joined with newlines); comments are skipped."""
    data: list[str] = []
    async for raw in lines:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)
