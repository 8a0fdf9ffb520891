"""The run's budget of answer bodies kept after their case: past it, a body keeps its head, length and sha256.

A case's steps see every answer whole (up to the transport's per-answer cap). What a run keeps afterwards, in
memory and so in results.json, is bounded: answer bodies larger than BODY_HEAD_BYTES are kept whole while
the budget lasts; past it each keeps its first BODY_HEAD_BYTES, with the whole body's length and sha256
(results.json `body_cut`, docs/contract.md). A server answering megabytes to every call thus costs a run at
most the budget, not megabytes per exchange. `dxconform run --body-budget` sets it for the whole run; each
xdist worker gets its share.
"""

from __future__ import annotations

import dataclasses
import threading

from ..model import Exchange

DEFAULT_BODY_BUDGET_BYTES = 32 * 1024 * 1024
# What a body keeps past the budget; bodies this small are always kept whole and never counted.
BODY_HEAD_BYTES = 1024


class BodyBudget:
    """Counts the answer bytes kept so far; `keep(exchange)` is the exchange as the run may keep it."""

    def __init__(self, limit_bytes: int = DEFAULT_BODY_BUDGET_BYTES):
        self.limit_bytes = max(0, limit_bytes)
        self.kept_bytes = 0
        self.cut_bodies = 0
        self._lock = threading.Lock()

    def keep(self, exchange: Exchange) -> Exchange:
        """The exchange with its answer whole while the budget lasts, else cut to its head. Either way the
        copy is a fresh Response: nothing parsed from the body (a cached JSON tree) stays in memory."""
        response = exchange.response
        if response is None or response.full_length is not None or len(response.body) <= BODY_HEAD_BYTES:
            return exchange
        size = len(response.body)
        with self._lock:
            within = self.kept_bytes + size <= self.limit_bytes
            if within:
                self.kept_bytes += size
            else:
                self.cut_bodies += 1
        kept = dataclasses.replace(response) if within else response.cut(BODY_HEAD_BYTES)
        return dataclasses.replace(exchange, response=kept)
