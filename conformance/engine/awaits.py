"""Awaited states that never came: once polls for one gave up a few times in a run, later waits fail at once.

An `eventually` step polls a route until its expectations hold (a file becoming `closed`). Against a server
whose state never comes, every such step would wait its whole timeout, case after case. The memo keys an
awaited state by the route, the JSON path and the value expected there, as the misses of the poll's last
answer name them (`$.state` expected "closed" on `/file-xxxx/describe`, whatever else the step expects): after
GIVE_UP_LIMIT polls gave up on it (or fewer that waited GIVE_UP_SECONDS in all: one wait of 120 s is enough),
a later step whose first answer misses the same state fails at once, naming the first wait that gave up.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from ..cases.model import Expect
from .expectations import Miss

GIVE_UP_LIMIT = 2
GIVE_UP_SECONDS = 60.0
STATUS_PATH = "status"

AwaitKey = tuple[str, str, str]    # (route, JSON path or `status`, the value expected there as JSON text)


def awaited_keys(route: str, misses: Iterable[Miss]) -> set[AwaitKey]:
    """The awaited states an answer's misses say did not come."""
    return {(route, miss.path, _json(miss.expected)) for miss in misses}


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def held_keys(route: str, expect: Expect) -> set[AwaitKey]:
    """The awaited states an answer that met `expect` shows do come: each value it expected at a path (and
    one level into an object it expected: `$: {state: closed}` holds `$.state` "closed"), and its status."""
    keys = {(route, STATUS_PATH, _json(list(expect.status)))} if expect.status else set()
    for path, matcher in expect.values.items():
        keys.add((route, path, _json(matcher)))
        if isinstance(matcher, dict):
            keys |= {(route, f"{path}.{name}", _json(value)) for name, value in matcher.items()
                     if not str(name).startswith("$")}
    return keys


@dataclass
class GaveUp:
    count: int
    first: str             # where the first poll that gave up on it was: `file:line (case)`
    seconds: float = 0.0   # how long the polls that gave up on it waited, in all


class AwaitMemo:
    """What this run's polls gave up on, by awaited state. Thread-safe."""

    def __init__(self, limit: int = GIVE_UP_LIMIT, seconds: float = GIVE_UP_SECONDS):
        self.limit = limit
        self.seconds = seconds
        self._gave_up: dict[AwaitKey, GaveUp] = {}
        self._lock = threading.Lock()

    def hopeless(self, route: str, misses: Iterable[Miss]) -> str | None:
        """Where the first wait gave up, when a state these misses name never came `limit` times (or for
        `seconds` in all) in this run; else None."""
        with self._lock:
            for key in awaited_keys(route, misses):
                known = self._gave_up.get(key)
                if known is not None and (known.count >= self.limit or known.seconds >= self.seconds):
                    return known.first
        return None

    def gave_up(self, route: str, misses: Iterable[Miss], where: str, seconds: float) -> None:
        """A poll waited its whole timeout (`seconds`): count each state its last answer missed."""
        with self._lock:
            for key in awaited_keys(route, misses):
                known = self._gave_up.setdefault(key, GaveUp(0, where))
                known.count += 1
                known.seconds += seconds

    def held(self, route: str, expect: Expect) -> None:
        """A poll's expectations held: the states it awaited do come (forget they did not). A wait for
        another value at the same path (`$.state` "open") says nothing of them."""
        with self._lock:
            for key in held_keys(route, expect):
                self._gave_up.pop(key, None)
