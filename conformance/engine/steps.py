"""Running one step: fill its templates, send it, run the protocol checks, meet its expectations, save, poll."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..cases.match import MISSING, get_path
from ..cases.model import NO_BODY, Step
from ..cases.template import render
from ..checks import CheckContext, apply_checks
from ..model import Exchange, Finding
from .expectations import Miss, evaluate

if TYPE_CHECKING:
    from .session import RunSession

# A long poll keeps its first and last few exchanges in the record (the checks still see every one).
KEEP_POLLS_HEAD, KEEP_POLLS_TAIL = 2, 3


class MissingUser(Exception):
    """The step runs as a user the run has no token for (e.g. bob without --token2)."""


@dataclass
class StepRun:
    """What came of one step: its exchanges, the checks' findings, the expectations it missed, and so on."""

    exchanges: list[Exchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)
    error: str | None = None          # a transport error: no complete answer (or not sent: the route hangs)
    route: str | None = None          # the route key called, when the path has one
    absent: str | None = None         # evidence that the server lacks the (optional) route (absence.py)
    note: str = ""                    # how long an `eventually` step took

    @property
    def ok(self) -> bool:
        return self.error is None and not self.misses


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _headers(step: Step, saved: dict[str, Any]) -> dict[str, str | None]:
    rendered = render(step.headers, saved)
    if not isinstance(rendered, dict):
        raise TypeError(f"headers {step.headers!r} gave {type(rendered).__name__}, not a mapping")
    return {str(name): (None if value is None else _text(value)) for name, value in rendered.items()}


def _send(session: RunSession, step: Step, saved: dict[str, Any]) -> tuple[Exchange, str | None]:
    """Send the step once; (exchange, route key or None)."""
    headers = _headers(step, saved)
    if step.fetch is not None:
        url = _text(render(step.fetch, saved))
        body = step.raw if step.raw is not None else (
            b"" if step.body is NO_BODY else json.dumps(render(step.body, saved)).encode())
        exchange = session.transport.fetch(url, method=step.method,
                                           headers={k: v for k, v in headers.items() if v is not None}, body=body)
        return exchange, None
    path = _text(render(step.route, saved))
    matched = session.spec.match(path)
    route = matched.route if matched is not None else None
    if step.token is None and step.user is not None and step.user not in session.transport.tokens:
        raise MissingUser(step.user)
    kwargs: dict[str, Any] = {"raw_body": step.raw} if step.raw is not None else (
        {} if step.body is NO_BODY else {"json_body": render(step.body, saved)})
    exchange = session.transport.call(path, user=step.user, token=step.token, method=step.method,
                                      headers=headers, route=route, **kwargs)
    return exchange, route


def _check(session: RunSession, step: Step, exchange: Exchange, route: str | None) -> tuple[list[Finding], str | None]:
    """(the protocol checks' findings, evidence that the server lacks the route or None). The checks' results
    count for the route, or, when the server answered as it does for a method it does not have, for the
    unrouted paths: they say how the server answers unknown methods, nothing of the route."""
    ctx = CheckContext(spec=session.spec, route=route)
    checked = apply_checks(ctx, exchange, skip=step.skip_checks)
    if exchange.response is None:
        # Nothing came back: no check had anything to look at, so none "ran" on this route.
        return list(checked.findings), None
    # A step with a token of its own (a bad one, usually) says nothing of the route's presence.
    absent = session.absent_route(exchange, step.user) if step.token is None else None
    counted_route = None if absent else route
    session.ledger.record(counted_route, checked.looked, checked.findings,
                          profile=session.route_profile(counted_route), applied=checked.applied)
    return list(checked.findings), absent


def _known_to_hang(session: RunSession, step: Step, saved: dict[str, Any]) -> str | None:
    """The route key if this API call's route already timed out repeatedly (so a hanging route costs the
    run a few timeouts, not one per case), else None."""
    if step.route is None:
        return None
    matched = session.spec.match(_text(render(step.route, saved)))
    if matched is not None and session.route_hangs(matched.route):
        return matched.route
    return None


def _saves(step: Step, exchange: Exchange) -> tuple[dict[str, Any], list[Miss]]:
    body = exchange.response.json if exchange.response is not None else MISSING
    values, misses = {}, []
    for save in step.save:
        value = get_path(body, save.path)
        if value is MISSING:
            misses.append(Miss(f"cannot save {save.name}: nothing at {save.path}", save.path, "a value"))
        else:
            values[save.name] = value
    return values, misses


def run_step(session: RunSession, step: Step, saved: dict[str, Any]) -> StepRun:
    """Run one step (polling if it has `eventually`); on success its saved values are added to `saved`.
    Raises TemplateError (a value it needs was never saved) and MissingUser; never a network error."""
    run = StepRun()
    started = time.monotonic()
    deadline = started + (step.eventually.timeout if step.eventually else 0.0)
    tries = 0
    while True:
        tries += 1
        hung = _known_to_hang(session, step, saved)
        if hung:
            run.route, run.error = hung, (f"not sent: {hung} timed out {session.hung_routes[hung]} times "
                                          "already in this run")
            break
        exchange, route = _send(session, step, saved)
        run.route = route
        session.note_timeout(route, exchange)
        if step.route is not None:
            findings, run.absent = _check(session, step, exchange, route)
            run.findings.extend(findings)
            session.tracker.observe(exchange, route, step.user)
        run.exchanges.append(exchange)
        if exchange.error is not None:
            run.error = f"{exchange.error.kind}: {exchange.error.message}"
            run.misses = []
            break
        run.misses = evaluate(step.expect, exchange.response, saved, session.spec)
        values: dict[str, Any] = {}
        if not run.misses:
            values, run.misses = _saves(step, exchange)
        if not run.misses:
            saved.update(values)
            break
        interval = step.eventually.interval if step.eventually else 0.0
        if step.eventually is None or time.monotonic() + interval > deadline:
            break
        time.sleep(interval)
    elapsed_ms = int((time.monotonic() - started) * 1000)
    if step.eventually is not None:
        run.note = (f"held after {elapsed_ms} ms ({tries} tries)" if run.ok else
                    f"did not hold within {step.eventually.timeout:g} s ({tries} tries, {elapsed_ms} ms)")
    if len(run.exchanges) > KEEP_POLLS_HEAD + KEEP_POLLS_TAIL:
        run.exchanges = run.exchanges[:KEEP_POLLS_HEAD] + run.exchanges[-KEEP_POLLS_TAIL:]
    return run
