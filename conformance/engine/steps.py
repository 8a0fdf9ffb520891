"""Running one step: send it (polling while it has `eventually`), meet its expectations, save what it names."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..cases.match import MISSING
from ..cases.model import Step
from .expectations import Miss
from .paging import walk
from .sending import MissingUser, Sent, StepRun, attempt, judged, saves_from, sent_md5

if TYPE_CHECKING:
    from .session import RunSession

# A long poll keeps its first and last few exchanges in the record (the checks still see every one).
KEEP_POLLS_HEAD, KEEP_POLLS_TAIL = 2, 3
# The first wait between two polls of an `eventually` step (s); each next one doubles, up to the step's interval.
FIRST_POLL_WAIT = 0.025

__all__ = ["KEEP_POLLS_HEAD", "KEEP_POLLS_TAIL", "MissingUser", "StepRun", "run_step"]


def _saves(step: Step, sent: Sent) -> tuple[dict[str, Any], list[Miss]]:
    response = sent.exchange.response
    values, misses = saves_from(step, response.json if response is not None else MISSING)
    if step.save_md5:
        values[step.save_md5] = sent_md5(step, sent.exchange)
    return values, misses


def run_step(session: RunSession, step: Step, saved: dict[str, Any]) -> StepRun:
    """Run one step (polling if it has `eventually`, walking pages if it has `page_through`); on success its
    saved values are added to `saved`. Raises TemplateError (a value it needs was never saved) and
    MissingUser; never a network error."""
    if step.page_through is not None:
        return walk(session, step, saved)
    run = StepRun()
    started = time.monotonic()
    deadline = started + (step.eventually.timeout if step.eventually else 0.0)
    tries = 0
    hopeless: str | None = None     # where an earlier wait for the same state gave up (awaits.py)
    while True:
        tries += 1
        sent = attempt(session, step, saved, run)
        if sent is None:
            run.misses = []
            break
        run.misses = judged(session, step.expect, sent)
        values: dict[str, Any] = {}
        if not run.misses:
            values, run.misses = _saves(step, sent)
        if not run.misses:
            saved.update(values)
            break
        interval = poll_wait(step.eventually.interval, tries) if step.eventually else 0.0
        if step.eventually is None or time.monotonic() + interval > deadline:
            break
        if tries == 1:
            hopeless = session.awaits.hopeless(_awaited_route(run, step), run.misses)
            if hopeless is not None:
                break
        time.sleep(interval)
    if step.eventually is not None and run.error is None:
        _remember_wait(session, run, step, saved, hopeless, time.monotonic() - started)
    _note_polls(run, step, started, tries, hopeless)
    return run


def poll_wait(interval: float, tries: int) -> float:
    """The wait after the `tries`-th poll: FIRST_POLL_WAIT, doubling each time, never more than `interval`
    (the step's `eventually.interval`). A state that comes quickly (a job of a fast server ending in half a
    second) is seen soon after it came; a slow one is polled at the step's own pace."""
    return min(interval, FIRST_POLL_WAIT * 2 ** (tries - 1))


def _awaited_route(run: StepRun, step: Step) -> str:
    return run.route or step.target


def _remember_wait(session: RunSession, run: StepRun, step: Step, saved: dict[str, Any],
                   hopeless: str | None, seconds: float) -> None:
    """Tell the run's memo of awaited states whether this poll's state came (awaits.py)."""
    route = _awaited_route(run, step)
    if run.ok:
        session.awaits.held(route, step.expect)
    elif hopeless is None:
        session.awaits.gave_up(route, run.misses, f"{step.location} ({saved.get('case_id', '?')})", seconds)


def _note_polls(run: StepRun, step: Step, started: float, tries: int, hopeless: str | None = None) -> None:
    elapsed_ms = int((time.monotonic() - started) * 1000)
    if step.eventually is not None:
        if hopeless is not None:
            run.note = (f"failed at once, same cause as {hopeless}: the state it awaits already failed to come "
                        f"within its timeout in earlier waits of this run (one try, no polling)")
        else:
            run.note = (f"held after {elapsed_ms} ms ({tries} tries)" if run.ok else
                        f"did not hold within {step.eventually.timeout:g} s ({tries} tries, {elapsed_ms} ms)")
    if len(run.exchanges) > KEEP_POLLS_HEAD + KEEP_POLLS_TAIL:
        run.exchanges = run.exchanges[:KEEP_POLLS_HEAD] + run.exchanges[-KEEP_POLLS_TAIL:]
