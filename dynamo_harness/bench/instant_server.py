"""An OpenAI-style streaming endpoint that answers at once, for measuring the probe's own ceiling:
every chat completion streams `max_tokens` one-word chunks, a usage chunk and [DONE] with no delay,
so the requests per second a client reaches against it is bounded by the client, not the server.
Listens on 127.0.0.1 only. Run: python -m dynamo_harness.bench.instant_server PORT
"""

from __future__ import annotations

import json
import sys

from aiohttp import web


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    tokens = int(body.get("max_tokens", 16))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    base = {"id": "instant", "object": "chat.completion.chunk", "model": body.get("model", "instant")}
    chunks = [json.dumps({**base, "choices": [{"index": 0, "delta": {"content": f" w{i}"}}]}) for i in range(tokens)]
    chunks.append(json.dumps({**base, "choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": tokens,
                                                               "total_tokens": 8 + tokens}}))
    await response.write("".join(f"data: {c}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def main() -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
