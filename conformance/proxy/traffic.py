"""The traffic one proxy run saw: recorded entries, the tokens to scrub, and background checking in order."""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable
from typing import Any

from ..model import Exchange
from ..redaction import token_of
from .har import Entry
from .monitor import Monitor, Verdict

# File content (upload/download) is kept only in part in the recording: the checks never read it.
CONTENT_BODY_KEPT = 4096
_STOP = object()


class Traffic:
    """Records exchanges and checks them on one background thread, in the order they were submitted."""

    def __init__(self, monitor: Monitor, on_new_token: Callable[[str], None] | None = None):
        self.monitor = monitor
        # Told each token the first time it is seen (the proxy command scrubs it from its output channels).
        self.on_new_token = on_new_token
        self.entries: list[Entry] = []
        self.secrets: set[str] = set()
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._check_queued, name="dxconform-proxy-checks", daemon=True)
        self._worker.start()

    def note_authorization(self, value: str) -> None:
        token = token_of(value)
        if not token:
            return
        with self._lock:
            new = token not in self.secrets
            self.secrets.add(token)
        if new and self.on_new_token is not None:
            self.on_new_token(token)

    def known_secrets(self) -> list[str]:
        with self._lock:
            return list(self.secrets)

    def record(self, exchange: Exchange, started_ms: int, *, content: bool, extra: dict[str, Any] | None = None
               ) -> Entry:
        """Keep the exchange for the HAR (file content cut to its first bytes)."""
        request_size = len(exchange.request.body)
        response_size = len(exchange.response.body) if exchange.response is not None else None
        if content:
            exchange = _cut(exchange, CONTENT_BODY_KEPT)
        entry = Entry(exchange, started_ms, request_size, response_size, dict(extra or {}))
        with self._lock:
            self.entries.append(entry)
        return entry

    def submit(self, exchange: Exchange, started_ms: int) -> None:
        """Check later, on the background thread (off the answer's path)."""
        self._queue.put((exchange, started_ms))

    def check_now(self, exchange: Exchange, started_ms: int) -> Verdict:
        return self.monitor.inspect(exchange, now_ms=started_ms)

    def _check_queued(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            exchange, started_ms = item
            self.monitor.inspect(exchange, now_ms=started_ms)

    def close(self) -> None:
        """Wait until every submitted exchange is checked."""
        if self._worker.is_alive():
            self._queue.put(_STOP)
            self._worker.join()

    def sorted_entries(self) -> list[Entry]:
        with self._lock:
            return sorted(self.entries, key=lambda e: e.started_ms)


def _cut(exchange: Exchange, keep: int) -> Exchange:
    request, response = exchange.request, exchange.response
    if len(request.body) > keep:
        request = dataclasses.replace(request, body=request.body[:keep])
    if response is not None and len(response.body) > keep:
        response = dataclasses.replace(response, body=response.body[:keep])
    return dataclasses.replace(exchange, request=request, response=response)
