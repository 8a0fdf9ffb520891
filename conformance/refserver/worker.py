"""The one thread that runs handlers: SQLite access stays serialized, and the event loop stays free.

Requests are queued and run one at a time, in arrival order, each in its own transaction, as they did on
the event loop; meanwhile the loop keeps reading bodies, timing out slow clients and taking signals. The
thread starts with the first request and is a daemon: a process that must stop does not wait for a handler
(SIGTERM stops `serve` at once).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from . import budget

_STOP = object()


class HandlerThread:
    def __init__(self, own_budget: budget.Budget, name: str = "dxconform-handlers"):
        self.budget = own_budget
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._name = name
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _run(self) -> None:
        budget.bind(self.budget)
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the awaiting request, which answers it
                future.set_exception(exc)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._queue.put((future, fn, args))
        return future

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args) on the handler thread, awaited without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(fn, *args))

    def stop(self, timeout: float = 5.0) -> bool:
        """End the running request's budget, let the thread finish; True once it has."""
        self.budget.abort()
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return True
            self._queue.put(_STOP)
        thread.join(timeout)
        return not thread.is_alive()
