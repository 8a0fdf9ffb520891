"""Generated binary bodies: deterministic bytes from (size, seed, offset), so a case can upload large parts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class GeneratedBytes:
    """`size` bytes of the stream named by `seed`, from `offset` on. The stream is SHAKE-256 of the seed, so
    the same three numbers give the same bytes on every machine, and consecutive slices of one seed (offset 0
    size a, then offset a size b) are the first a + b bytes of that stream."""

    size: int
    seed: int = 0
    offset: int = 0

    def data(self) -> bytes:
        return _stream(self.seed, self.offset + self.size)[self.offset:]

    def md5(self) -> str:
        return hashlib.md5(self.data()).hexdigest()


@lru_cache(maxsize=4)
def _stream(seed: int, length: int) -> bytes:
    return hashlib.shake_256(f"dxconform-bytes:{seed}".encode()).digest(length)


def md5_hex(data: bytes | str) -> str:
    """The md5 of a body as sent (a text body as its UTF-8 bytes), in lowercase hex."""
    return hashlib.md5(data.encode() if isinstance(data, str) else data).hexdigest()
