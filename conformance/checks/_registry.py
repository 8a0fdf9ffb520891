"""The check registry: `@check` registers a small function by name with its level, area and source."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model import NOT_JSON, Area, Exchange, Finding, Level
from .failures import CheckFailure, NotApplicable

CheckFunction = Callable[["CheckContext", Exchange], Any]


@dataclass
class CheckContext:
    """What a check may know beyond the exchange: the spec, the route if the caller knows it, the clock."""

    spec: Any = None                    # conformance.spec's Spec (or a stand-in with the same API), or None
    route: str | None = None            # route key such as "/file-xxxx/close", when the caller knows it
    now_ms: int | None = None           # "now" for plausibility checks; None = the wall clock
    valid_input: bool | None = None     # True when the request is known to be valid input
    options: dict[str, Any] = field(default_factory=dict)

    def route_for(self, exchange: Exchange) -> str | None:
        if self.route:
            return self.route
        if exchange.route:
            return exchange.route
        if self.spec is not None:
            matched = self.spec.match(exchange.request.path)
            return matched.route if matched is not None else None
        return None

    def now(self) -> int:
        return self.now_ms if self.now_ms is not None else int(time.time() * 1000)


@dataclass(frozen=True)
class CheckInfo:
    name: str
    level: Level
    area: Area
    source: str
    title: str
    function: CheckFunction
    side: str = "server"                # whose rule it is: "server" (the answer) or "client" (the request)


SERVER_SIDE, CLIENT_SIDE = "server", "client"
# Server-side checks, the ones run on every answer. Client-side (request) checks live apart, so the runner,
# whose requests are deliberately malformed at times, never runs or tallies them; the proxy runs both.
CHECKS: dict[str, CheckInfo] = {}
CLIENT_CHECKS: dict[str, CheckInfo] = {}


def registry_for(side: str) -> dict[str, CheckInfo]:
    if side not in (SERVER_SIDE, CLIENT_SIDE):
        raise ValueError(f"side must be {SERVER_SIDE!r} or {CLIENT_SIDE!r}, not {side!r}")
    return CHECKS if side == SERVER_SIDE else CLIENT_CHECKS


def check_info(name: str) -> CheckInfo | None:
    """The registered check of either side with this name (names are unique across sides)."""
    return CHECKS.get(name) or CLIENT_CHECKS.get(name)


def check(*, name: str, level: Level, area: Area, source: str, title: str,
          side: str = SERVER_SIDE) -> Callable[[CheckFunction], CheckFunction]:
    """Register `function(ctx, exchange)`: returns None on pass, NotApplicable to skip, raises (or returns, or
    returns a list of) CheckFailure on violation."""

    def register(function: CheckFunction) -> CheckFunction:
        if check_info(name) is not None:
            raise ValueError(f"check {name!r} registered twice")
        registry_for(side)[name] = CheckInfo(name, Level(level), Area(area), source, title, function, side)
        return function

    return register


# --- preconditions, stacked under @check so a check's body holds only its rule ---------------------------

def _precondition(test: Callable[[Exchange], str | None]) -> Callable[[CheckFunction], CheckFunction]:
    def decorate(function: CheckFunction) -> CheckFunction:
        @functools.wraps(function)
        def guarded(ctx: CheckContext, exchange: Exchange) -> Any:
            reason = test(exchange)
            return NotApplicable(reason) if reason else function(ctx, exchange)
        return guarded
    return decorate


requires_response = _precondition(lambda ex: "no response" if ex.response is None else None)
requires_complete_body = _precondition(
    lambda ex: "no response" if ex.response is None else ("body cut off" if ex.response.truncated else None))
requires_json = _precondition(
    lambda ex: "no JSON body" if ex.response is None or ex.response.json is NOT_JSON else None)
requires_success = _precondition(
    lambda ex: None if ex.response is not None and 200 <= ex.response.status < 300 else "not a 2xx answer")
requires_error_status = _precondition(
    lambda ex: None if ex.response is not None and ex.response.status >= 400 else "not an error answer")


# --- running -----------------------------------------------------------------------------------------------

def _findings(info: CheckInfo, outcome: Any) -> list[Finding]:
    if outcome is None or isinstance(outcome, NotApplicable):
        return []
    failures = [outcome] if isinstance(outcome, CheckFailure) else list(outcome)
    return [Finding(check=info.name, level=failure.level or info.level, area=info.area, source=info.source,
                    title=failure.title, message=failure.message, path=failure.path,
                    expected=failure.expected, actual=failure.actual) for failure in failures]


@dataclass(frozen=True)
class ChecksRun:
    """What the checks made of one exchange: which looked at it, which of those had a rule that applied
    (the others answered NotApplicable), and the findings of those that failed."""

    looked: tuple[str, ...] = ()
    applied: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()


def apply_check(info: CheckInfo, ctx: CheckContext, exchange: Exchange) -> tuple[bool, list[Finding]]:
    """(did the rule apply, findings) of one check on one exchange; a crash applies and is an internal finding."""
    try:
        outcome = info.function(ctx, exchange)
    except CheckFailure as failure:
        return True, _findings(info, failure)
    except Exception as crash:  # a crashing check is a suite bug: report it, never hide the other checks
        return True, [Finding(check=info.name, level=info.level, area=info.area, source=info.source,
                              title="Check crashed", message=f"{type(crash).__name__}: {crash}", internal=True)]
    return not isinstance(outcome, NotApplicable), _findings(info, outcome)


def run_check(info: CheckInfo, ctx: CheckContext, exchange: Exchange) -> list[Finding]:
    return apply_check(info, ctx, exchange)[1]


def apply_checks(ctx: CheckContext, exchange: Exchange, names: Iterable[str] | None = None,
                 skip: Iterable[str] = (), side: str = SERVER_SIDE) -> ChecksRun:
    """Every registered check of `side` (or those named, less `skip`) on one exchange."""
    skipped = set(skip)
    registry = registry_for(side)
    selected = [registry[n] for n in names] if names is not None else list(registry.values())
    looked, applied, findings = [], [], []
    for info in selected:
        if info.name in skipped:
            continue
        looked.append(info.name)
        did_apply, found = apply_check(info, ctx, exchange)
        if did_apply:
            applied.append(info.name)
        findings.extend(found)
    return ChecksRun(tuple(looked), tuple(applied), tuple(findings))


def run_checks(ctx: CheckContext, exchange: Exchange, names: Iterable[str] | None = None,
               skip: Iterable[str] = (), side: str = SERVER_SIDE) -> list[Finding]:
    """Every registered check of `side` (or those named) on one exchange; the findings of those that fail."""
    return list(apply_checks(ctx, exchange, names, skip, side).findings)
