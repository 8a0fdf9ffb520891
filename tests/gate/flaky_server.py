"""A reference server that answers the first N project describes with 503, then behaves: a flaky server."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from conformance.refserver.app import RefServerApp
from conformance.refserver.context import Settings
from conformance.refserver.db import Database
from conformance.refserver.server import free_port, make_config

DESCRIBE = re.compile(r"^/project-[^/]+/describe$")
# The platform's documented transient failure: a 503 ServiceUnavailable with Retry-After (passes every check).
UNAVAILABLE = json.dumps({"error": {"type": "ServiceUnavailable", "message": "try again later"}}).encode()


class FailFirstDescribes:
    """ASGI wrapper around the reference server: the next `armed` project describes get a 503."""

    def __init__(self, app: RefServerApp):
        self.app = app
        self.armed = 0
        self.failed = 0
        self._lock = threading.Lock()

    def arm(self, count: int) -> None:
        with self._lock:
            self.armed, self.failed = count, 0

    def _take(self) -> bool:
        with self._lock:
            if self.armed <= 0:
                return False
            self.armed -= 1
            self.failed += 1
            return True

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and DESCRIBE.match(scope["path"]) and self._take():
            while (await receive()).get("more_body"):
                pass
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1"),
                                    (b"x-content-type-options", b"nosniff"),
                                    (b"content-length", str(len(UNAVAILABLE)).encode())]})
            await send({"type": "http.response.body", "body": UNAVAILABLE})
            return
        await self.app(scope, receive, send)


@contextmanager
def flaky_server() -> Iterator[tuple[str, FailFirstDescribes, dict[str, str]]]:
    """(URL on loopback, the wrapper to arm, tokens by user) for the duration."""
    settings = Settings()
    app = RefServerApp(Database(None), settings)
    wrapper = FailFirstDescribes(app)
    port = free_port()
    server = uvicorn.Server(make_config(wrapper, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, name="flaky-refserver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the flaky server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", wrapper, dict(settings.users)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.close()
