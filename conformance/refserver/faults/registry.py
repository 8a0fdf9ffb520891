"""The fault registry: what a fault is (`Fault`), every fault by name (`FAULTS`), and choosing some (`select`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Fault:
    name: str
    area: str                      # the area of the rule it breaks (url-forms, json-input, ... semantics)
    rule: str                      # the rule it breaks, one line
    # protocol boundary: (method, path, headers, body) -> same, before anything else runs
    request: Callable[[str, str, dict[str, str], bytes], tuple[str, str, dict[str, str], bytes]] | None = None
    # protocol boundary: (status, headers list, body bytes) -> same, on every API answer
    response: Callable[[int, list[tuple[bytes, bytes]], bytes], tuple[int, list, bytes]] | None = None
    # handler level: the routes whose handler is wrapped, and the wrapper
    routes: tuple[str, ...] = ()
    wrap: Callable[[Handler], Handler] | None = None
    # seconds to stall before answering a path ending in one of these suffixes
    stall: tuple[tuple[str, ...], float] | None = None
    # routes that stop being treated as nonce-accepting
    drop_nonce: bool = False
    # the job machinery: wraps the steps the server's job service takes on the store (job_service.Steps:
    # advance, process_ended, settle_analyses), for rules that show in how jobs and analyses move rather than in
    # one route's answer
    steps: Callable[[Any], Any] | None = None
    # authentication: which tokens are taken as `token_taken_as`'s instead of refused: "missing" (no
    # Authorization header), "unknown" (one that is not "Bearer <a configured user's token>")
    tokens_taken: frozenset[str] = frozenset()
    token_taken_as: str = "user-alice"


FAULTS: dict[str, Fault] = {}


def fault(f: Fault) -> Fault:
    FAULTS[f.name] = f
    return f


def select(names: frozenset[str] | set[str] | tuple[str, ...]) -> list[Fault]:
    unknown = sorted(set(names) - set(FAULTS))
    if unknown:
        raise KeyError(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    return [FAULTS[n] for n in sorted(names)]
