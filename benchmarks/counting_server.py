"""`dxconform serve` with a count of what its clients sent: every request, and every distinct (method, path,
body), for benchmarks that must count at the server what a tool sent rather than trust the tool's summary.

Runs the CLI's own `serve` (same arguments, same startup line `listening on URL`) with one ASGI wrapper
around the application. The counts are served on `GET /__counts` (no route of the API: the API is POST
only; that request is not counted) as JSON {"requests": N, "distinct": M, "methods": {...}}, and printed to
stderr when the server exits.

    python benchmarks/counting_server.py --port 0 --closing-ms 0 --fixed-tokens
"""

from __future__ import annotations

import atexit
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

COUNTS_PATH = "/__counts"


class CountingApp:
    """ASGI wrapper: counts HTTP requests and distinct (method, path, body digest) triples, then calls `app`."""

    def __init__(self, app: Any):
        self.app = app
        self.requests = 0
        self.methods: Counter[str] = Counter()
        self.distinct: set[tuple[str, str, bytes]] = set()

    @property
    def limits(self) -> Any:  # server.make_config reads the wrapped app's limits through `.limits` / `.app`
        return getattr(self.app, "limits", None) or getattr(getattr(self.app, "app", None), "limits", None)

    def counts(self) -> dict[str, Any]:
        return {"requests": self.requests, "distinct": len(self.distinct), "methods": dict(sorted(self.methods.items()))}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "GET" and scope["path"] == COUNTS_PATH:
            body = json.dumps(self.counts()).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        digest = hashlib.sha256()

        async def counted_receive():
            message = await receive()
            if message["type"] == "http.request":
                digest.update(message.get("body", b""))
            return message

        try:
            await self.app(scope, counted_receive, send)
        finally:
            self.requests += 1
            self.methods[scope["method"]] += 1
            self.distinct.add((scope["method"], scope["path"], digest.digest()))


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conformance.cli.main import main as cli_main
    from conformance.refserver import server

    wrappers: list[CountingApp] = []
    guard = server.RequestGuard

    def counted_guard(app, host, port):
        wrappers.append(CountingApp(guard(app, host, port)))
        return wrappers[-1]

    server.RequestGuard = counted_guard
    atexit.register(lambda: wrappers and print(f"counts: {json.dumps(wrappers[-1].counts())}", file=sys.stderr,
                                               flush=True))
    return cli_main(["serve", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
