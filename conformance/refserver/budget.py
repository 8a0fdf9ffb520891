"""The time budget of the request being handled: its deadline, and the error a request past it gets.

Each server's handler thread owns one Budget (`bind` makes it that thread's `current()`) and starts it per
request (`running`); SQLite's progress handler, the search loops over rows and the name matchers ask
`current().check()` / `remaining()`. Outside a request there is no deadline. `abort()` (from any thread)
ends the current request's budget at once: the server calls it when it shuts down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import InvalidInput


class OverBudget(InvalidInput):
    """The request ran past its time budget (422 InvalidInput: retrying the same request would not help)."""


class Budget:
    """The deadline of the one request the handler thread runs (time.monotonic seconds), or None."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._seconds = 0.0

    @contextmanager
    def running(self, seconds: float) -> Iterator[None]:
        with self._lock:
            self._deadline, self._seconds = time.monotonic() + seconds, seconds
        try:
            yield
        finally:
            with self._lock:
                self._deadline = None

    def abort(self) -> None:
        with self._lock:
            if self._deadline is not None:
                self._deadline = 0.0

    def expired(self) -> bool:
        deadline = self._deadline
        return deadline is not None and time.monotonic() >= deadline

    def remaining(self) -> float | None:
        """Seconds left (at least a millisecond, so a timeout argument stays valid), or None: no deadline."""
        deadline = self._deadline
        return None if deadline is None else max(deadline - time.monotonic(), 0.001)

    def error(self) -> OverBudget:
        return OverBudget(f"the request ran past the reference server's time budget of {self._seconds:g} s per "
                          "request (limits: request_seconds); narrow the search or split the request")

    def check(self) -> None:
        if self.expired():
            raise self.error()


_thread = threading.local()
_NONE = Budget()  # never running: no deadline outside a handler thread


def bind(budget: Budget) -> None:
    """Make `budget` the calling thread's current one (the handler thread, once, at its start)."""
    _thread.budget = budget


def current() -> Budget:
    return getattr(_thread, "budget", _NONE)
