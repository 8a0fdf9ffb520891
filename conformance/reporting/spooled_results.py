"""Case results kept on disk as their JSON text while a run goes on, with a light record of each in memory.

A case result is mostly its exchanges (nine tenths of its JSON in the shipped suite): a run that kept every
result whole held them all until it wrote results.json at its end, so that its memory grew by each case's
exchanges (a run of ten times the suite held about a gigabyte). Here the controller writes each result's
JSON text to an unnamed temporary file (deleted with the process, never a name on disk; the text is already
scrubbed of tokens) and keeps in memory only the members of it that are not heavy, in a `SpooledResult`:
a read-only mapping with every member of the result, whose heavy members (`HEAVY_KEYS`) are read back from
the file when asked for. Whoever reads `exchanges` of a result gets them, as from a dict; the reports that
read every result's exchanges (the coverage map) read each once, one result at a time.

results.json is written from each result's text (json_text.write_indented), not from a copy in memory.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

# The members of a case result that hold what it sent and received: kept in the file, read back on demand.
HEAVY_KEYS = frozenset({"exchanges", "attempts", "replay"})
SHORT_STRING = 64   # strings up to this length in the light members are interned (shared by every result)


class ResultSpool:
    """The file the results' text goes to (unnamed: it vanishes when closed or when the process ends)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="dxconform-results-")
        self._end = 0
        self._shapes: dict[tuple[str, ...], tuple[str, ...]] = {}   # one tuple per distinct key order

    def add(self, record: dict[str, Any]) -> Mapping[str, Any]:
        """The record as it is kept: itself if it has no heavy member, else a SpooledResult (its JSON text in
        the file, its light members in memory)."""
        if HEAVY_KEYS.isdisjoint(record):
            return _shared(record)
        data = json.dumps(record, ensure_ascii=False, default=str).encode("utf-8", errors="surrogatepass")
        offset = self._end
        os.pwrite(self._file.fileno(), data, offset)
        self._end += len(data)
        keys = tuple(record)
        keys = self._shapes.setdefault(keys, tuple(sys.intern(key) for key in keys))
        light = {sys.intern(key): _shared(value) for key, value in record.items() if key not in HEAVY_KEYS}
        return SpooledResult(light, keys, self, offset, len(data))

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self._file.fileno(), length, offset)
        if len(data) != length:
            raise OSError(f"the results spool ended early ({len(data)} of {length} bytes at {offset})")
        return data


def _shared(value: Any) -> Any:
    """The value with its mapping keys and short strings interned: results repeat the same outcomes, levels,
    areas, profiles, route and check names thousands of times, and each JSON parse makes new copies of them."""
    if isinstance(value, dict):
        return {sys.intern(key): _shared(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_shared(item) for item in value]
    if isinstance(value, str) and len(value) <= SHORT_STRING:
        return sys.intern(value)
    return value


class SpooledResult(Mapping[str, Any]):
    """A case result whose heavy members are in the spool: a mapping with every member of the result, in
    the result's own order; reading a heavy member reads the result's text back (nothing is cached)."""

    __slots__ = ("_light", "_keys", "_spool", "_offset", "_length")

    def __init__(self, light: dict[str, Any], keys: tuple[str, ...], spool: ResultSpool, offset: int,
                 length: int):
        self._light, self._keys, self._spool = light, keys, spool
        self._offset, self._length = offset, length

    def __getitem__(self, key: str) -> Any:
        try:
            return self._light[key]
        except KeyError:
            if key not in self._keys:
                raise
        return self.whole()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"SpooledResult({self._light.get('id')!r}, {len(self._keys)} members)"

    def text(self) -> str:
        """The result's JSON text (compact, as json.dumps writes it)."""
        return self._spool.read(self._offset, self._length).decode("utf-8", errors="surrogatepass")

    def whole(self) -> dict[str, Any]:
        """The whole result as a dict (read back from the spool)."""
        return json.loads(self.text())
