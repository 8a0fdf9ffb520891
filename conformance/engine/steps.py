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
        interval = step.eventually.interval if step.eventually else 0.0
        if step.eventually is None or time.monotonic() + interval > deadline:
            break
        time.sleep(interval)
    _note_polls(run, step, started, tries)
    return run


def _note_polls(run: StepRun, step: Step, started: float, tries: int) -> None:
    elapsed_ms = int((time.monotonic() - started) * 1000)
    if step.eventually is not None:
        run.note = (f"held after {elapsed_ms} ms ({tries} tries)" if run.ok else
                    f"did not hold within {step.eventually.timeout:g} s ({tries} tries, {elapsed_ms} ms)")
    if len(run.exchanges) > KEEP_POLLS_HEAD + KEEP_POLLS_TAIL:
        run.exchanges = run.exchanges[:KEEP_POLLS_HEAD] + run.exchanges[-KEEP_POLLS_TAIL:]
