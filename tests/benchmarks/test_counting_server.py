"""The fuzzing benchmark's server-side count (benchmarks/counting_server.py): every request, and distinct
(method, path, body) triples, served on a side route that is itself not counted."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from counting_server import COUNTS_PATH, CountingApp  # noqa: E402


async def echo_app(scope, receive, send):
    """Reads the whole body in two chunks' worth of messages, answers 200."""
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def call(app, method: str, path: str, chunks: list[bytes]) -> tuple[int, bytes]:
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(app({"type": "http", "method": method, "path": path}, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_every_request_counts_and_distinct_examples_are_distinct_method_path_and_body():
    app = CountingApp(echo_app)
    call(app, "POST", "/record/new", [b'{"name": ', b'"a"}'])
    call(app, "POST", "/record/new", [b'{"name": "a"}'])          # the same body in one chunk: not distinct
    call(app, "POST", "/record/new", [b'{"name": "b"}'])
    call(app, "POST", "/record-xxxx/rename", [b'{"name": "b"}'])  # another path
    call(app, "PUT", "/record/new", [b'{"name": "b"}'])           # another method
    status, body = call(app, "GET", COUNTS_PATH, [b""])
    assert status == 200
    assert json.loads(body) == {"requests": 5, "distinct": 4, "methods": {"POST": 4, "PUT": 1}}
    assert app.counts()["requests"] == 5   # reading the counts is not counted
