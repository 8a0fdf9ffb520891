"""Progress of a long run on the terminal: items done of expected, failures so far, and an estimate of the time left.

One line every PROGRESS_EVERY_S seconds (never per item), to stderr, so CI logs stay short and stdout holds
only the run's account.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

PROGRESS_EVERY_S = 10.0


class Progress:
    """Counts finished items; prints `progress: 400/1011 items, 12 failed, about 9 s left` now and then."""

    def __init__(self, failed: Callable[[], int], every_s: float = PROGRESS_EVERY_S, stream=None):
        self.failed = failed
        self.every_s = every_s
        self.stream = stream if stream is not None else sys.stderr
        self.expected = 0
        self.done: set[str] = set()
        self.started = time.monotonic()
        self.last = self.started

    def expect(self, count: int) -> None:
        """The number of items to run (for xdist: each worker reports the same collection; keep the largest)."""
        self.expected = max(self.expected, count)

    def finished(self, nodeid: str) -> None:
        self.done.add(nodeid)
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now: float | None = None) -> str:
        now = now if now is not None else time.monotonic()
        done, expected = len(self.done), self.expected
        text = f"dxconform progress: {done}/{expected or '?'} items, {self.failed()} failed"
        if done and expected > done:
            left = (now - self.started) / done * (expected - done)
            text += f", about {left:.0f} s left"
        return text
