"""The traffic one proxy run saw: the recording (streamed to disk), the tokens to scrub, and background checking
in order."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..model import Exchange
from ..redaction import token_of
from .checker import CheckerError, CheckerProcess
from .har import Entry
from .monitor import Monitor, Verdict
from .recording import HarSpool

# File content (upload/download) is kept only in part in the recording: the checks never read it.
CONTENT_BODY_KEPT = 4096
# Exchanges sent to the checker process at once, at most (fewer when nothing else is queued).
CHECK_BATCH = 64
# How often the background thread looks for queued work. It is not woken per item: each wake-up of a thread
# waiting on a queue made the answer's path wait for the GIL (0.1 ms per exchange, five items an exchange).
POLL_SECONDS = 0.005
_STOP = object()


class Traffic:
    """Records exchanges and checks them in the order they were submitted, off the answer's path.

    One background thread writes the recording (recording.HarSpool: what the proxy holds does not grow with the
    exchanges it sees) and checks, either itself with `monitor` or, with `checker_process`, by handing the
    exchanges to a child process (checker.py) that checks them with a Monitor of its own: the proxy's answers
    then never wait for the checks' hold on the GIL. The answer's path only queues (an exchange's begin and end,
    its entry, its check). `check_now` (strict mode) always checks with `monitor`, in the calling thread.
    """

    def __init__(self, monitor: Monitor, on_new_token: Callable[[str], None] | None = None, *,
                 checker_process: bool = False):
        self.monitor = monitor
        # Told each token the first time it is seen (the proxy command scrubs it from its output channels).
        self.on_new_token = on_new_token
        self.secrets: set[str] = set()
        self._spool = HarSpool()
        # Started at once: its imports and the spec take a second or two, which a short run (--duration) would
        # otherwise wait for at the end.
        self._checker = CheckerProcess(monitor.spec.root) if checker_process else None
        self._checked: tuple[list[dict[str, Any]], dict[str, int]] | None = None   # what the child handed back
        # Why the checker process was lost (it died or never answered): the checks it held are lost with it,
        # the proxy checks the rest itself and the command says so (the verdict is then incomplete).
        self.checker_lost: str | None = None
        self._lock = threading.Lock()
        self._queue: deque[Any] = deque()   # appended by the answer's path, taken by the background thread
        self._worker = threading.Thread(target=self._work, name="dxconform-proxy-checks", daemon=True)
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

    def begin(self, started_ms: int) -> None:
        """An exchange started: entries of exchanges that started after it wait for its own to be recorded."""
        self._queue.append((self._spool.begin, started_ms))

    def end(self, started_ms: int) -> None:
        """The exchange begun at `started_ms` is over (recorded, or not to be)."""
        self._queue.append((self._spool.end, started_ms))

    def record(self, exchange: Exchange, started_ms: int, *, content: bool, extra: dict[str, Any] | None = None
               ) -> Entry:
        """Keep the exchange for the HAR (file content cut to its first bytes)."""
        request_size = len(exchange.request.body)
        response_size = len(exchange.response.body) if exchange.response is not None else None
        if content:
            exchange = _cut(exchange, CONTENT_BODY_KEPT)
        entry = Entry(exchange, started_ms, request_size, response_size, dict(extra or {}))
        self._queue.append((self._spool.add, entry))
        return entry

    def submit(self, exchange: Exchange, started_ms: int) -> None:
        """Check later, off the answer's path."""
        self._queue.append((None, exchange, started_ms))

    def check_now(self, exchange: Exchange, started_ms: int) -> Verdict:
        return self.monitor.inspect(exchange, now_ms=started_ms)

    def _work(self) -> None:
        batch: list[tuple[Exchange, int]] = []
        while True:
            try:
                item = self._queue.popleft()
            except IndexError:   # nothing queued: the checker gets what there is, then a pause
                self._check(batch)
                batch = []
                time.sleep(POLL_SECONDS)
                continue
            if item is _STOP:
                break
            if item[0] is None:
                batch.append(item[1:])
                if len(batch) >= CHECK_BATCH:
                    self._check(batch)
                    batch = []
            else:
                item[0](*item[1:])
        self._check(batch)

    def _check(self, batch: list[tuple[Exchange, int]]) -> None:
        if not batch:
            return
        if self._checker is None:
            for exchange, started_ms in batch:
                self.monitor.inspect(exchange, now_ms=started_ms)
            return
        try:
            self._checker.send(batch)
        except CheckerError as exc:
            self._lose_checker(exc)
            self._check(batch)

    def _lose_checker(self, exc: CheckerError) -> None:
        self.checker_lost = self.checker_lost or str(exc)
        checker, self._checker = self._checker, None
        if checker is not None:
            checker.close()

    def close(self) -> None:
        """Wait until every submitted exchange is checked and every recorded one written to the spool."""
        if self._worker.is_alive():
            self._queue.append(_STOP)
            self._worker.join()
        if self._checker is not None and self._checked is None:
            try:
                self._checked = self._checker.finish()
            except CheckerError as exc:
                self._lose_checker(exc)

    def results(self) -> list[dict[str, Any]]:
        """results.json's check results, one per (check, route) that ran (after close())."""
        self.close()
        return list(self._checked[0]) if self._checked is not None else self.monitor.results()

    def counts(self) -> Counter[str]:
        """What was seen: api, content, no_answer and over_limit exchanges (after close())."""
        self.close()
        counts = Counter(self.monitor.traffic)
        if self._checked is not None:
            counts.update(self._checked[1])
        return counts

    def write_har(self, path: str | Path, secrets: list[str], *, creator_version: str,
                  notes: dict[str, Any] | None = None) -> Path:
        """exchanges.har of every recorded exchange, in start order (after close()); the spool is then gone."""
        self.close()
        try:
            return self._spool.write(path, secrets, creator_version=creator_version, notes=notes)
        finally:
            self._spool.close()


def _cut(exchange: Exchange, keep: int) -> Exchange:
    request, response = exchange.request, exchange.response
    if len(request.body) > keep:
        request = dataclasses.replace(request, body=request.body[:keep])
    if response is not None and len(response.body) > keep:
        response = dataclasses.replace(response, body=response.body[:keep])
    return dataclasses.replace(exchange, request=request, response=response)
