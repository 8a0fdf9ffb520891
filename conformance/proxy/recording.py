"""The proxy's HAR, streamed: entries spooled to a temporary file in start order as they complete, copied into
exchanges.har (scrubbed) at the end, so that what the proxy holds does not grow with the exchanges it saw.

An entry is written once no exchange that started before it is still in flight (those are held back, sorted,
until then): the spool is in start order however the exchanges' answers interleave, and what is held is
bounded by the exchanges in flight at once. Not thread-safe: one thread (the traffic worker) calls it.
"""

from __future__ import annotations

import heapq
import itertools
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .har import Entry, entry_line, write_har_lines


class HarSpool:
    """`begin(started_ms)` when an exchange starts, `add(entry)` when it is recorded, `end(started_ms)` when it
    is over; `write(path, ...)` then writes the HAR of every entry added, in start order."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="dxconform-proxy-har-")   # gone when closed, or at exit
        self._held: list[tuple[int, int, Entry]] = []    # heap: (started_ms, order added, entry)
        self._order = itertools.count()
        self._in_flight: Counter[int] = Counter()        # started_ms of the exchanges begun and not ended
        self.written = 0

    def begin(self, started_ms: int) -> None:
        self._in_flight[started_ms] += 1

    def end(self, started_ms: int) -> None:
        self._in_flight[started_ms] -= 1
        if self._in_flight[started_ms] <= 0:
            del self._in_flight[started_ms]
        self._release()

    def add(self, entry: Entry) -> None:
        heapq.heappush(self._held, (entry.started_ms, next(self._order), entry))
        self._release()

    @property
    def held(self) -> int:
        """Entries waiting for an exchange that started before them."""
        return len(self._held)

    def _release(self, everything: bool = False) -> None:
        oldest = min(self._in_flight) if self._in_flight and not everything else None
        while self._held and (oldest is None or self._held[0][0] <= oldest):
            _, _, entry = heapq.heappop(self._held)
            self._file.write(entry_line(entry) + b"\n")
            self.written += 1

    def _lines(self) -> Iterator[bytes]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield line.rstrip(b"\n")

    def write(self, path: str | Path, secrets: list[str], *, creator_version: str,
              notes: dict[str, Any] | None = None) -> Path:
        """The HAR of every entry added (those still held too: the exchanges in flight are over by now)."""
        self._release(everything=True)
        return write_har_lines(path, self._lines(), secrets, creator_version=creator_version, notes=notes)

    def close(self) -> None:
        self._file.close()
