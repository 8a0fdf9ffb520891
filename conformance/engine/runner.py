"""run_case: a case's fixtures, steps and `finally` steps into one Result with the outcome rules of the run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..cases.model import CaseSpec, CaseSuite, Fixture, Step
from ..cases.template import TemplateError, names_in, render
from ..model import Exchange, Finding, Level, Outcome, Result
from .session import RunFixture, RunSession, SetupError
from .steps import MissingUser, StepRun, run_step

WORK_PROJECT = "work_project"
MAX_MISSES_SHOWN = 3


@dataclass
class CaseRun:
    """What a case's steps produced so far; decides the outcome and the message."""

    exchanges: list[Exchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    failure: str | None = None            # the first step (fixture or case) that missed its expectations
    absent: str | None = None             # evidence that the server lacks an optional route a step called
    error: str | None = None              # a transport error or a setup problem
    skipped: str | None = None
    unsupported: str | None = None        # the run cannot test the case: no token for its second user
    finally_failure: str | None = None
    notes: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    # The step each exchange came from ("step 2", "fixture f step 1", "finally 1"): differential mode
    # compares two runs step by step.
    step_keys: list[str] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        return bool(self.failure or self.error or self.skipped or self.unsupported)

    def absorb(self, run: StepRun, label: str, *, main: bool, key: str = "") -> None:
        self.exchanges.extend(run.exchanges)
        self.step_keys.extend([key] * len(run.exchanges))
        self.findings.extend(run.findings)
        if run.note:
            self.notes.append(f"{label}: {run.note}")
        if main:
            called = [e.route for e in run.exchanges if e.route] + ([run.route] if run.route else [])
            self.routes.extend(route for route in dict.fromkeys(called) if route not in self.routes)
        if run.absent and self.absent is None:
            self.absent = f"{label}: {run.absent}"
        if run.error is not None:
            self.error = self.error or f"{label}: no answer ({run.error})"
        elif run.misses:
            shown = "; ".join(map(str, run.misses[:MAX_MISSES_SHOWN]))
            more = f" (+{len(run.misses) - MAX_MISSES_SHOWN} more)" if len(run.misses) > MAX_MISSES_SHOWN else ""
            if self.failure is None:
                self.failure = f"{label}: {shown}{more}"


def _label(phase: str, index: int, step: Step, saved: dict[str, Any]) -> str:
    try:
        target = render(step.target, saved)
    except TemplateError:
        target = step.target
    name = f" [{step.name}]" if step.name else ""
    return f"{phase} {index + 1}{name} {step.method} {target} ({step.location})"


def _run_steps(session: RunSession, steps: tuple[Step, ...], saved: dict[str, Any], state: CaseRun,
               phase: str, *, main: bool) -> None:
    """Run steps in order until one fails."""
    for index, step in enumerate(steps):
        label = _label(phase, index, step, saved)
        try:
            run = run_step(session, step, saved)
        except TemplateError as problem:
            state.failure = state.failure or f"{label}: {problem}"
            return
        except MissingUser as missing:
            state.unsupported = (f"no token for the second user (--token2): {label} runs as user "
                                 f"{missing.args[0]!r}")
            return
        state.absorb(run, label, main=main, key=f"{phase} {index + 1}")
        if not run.ok:
            return


def _run_finally(session: RunSession, steps: tuple[Step, ...], saved: dict[str, Any], state: CaseRun,
                 phase: str) -> None:
    """Run every cleanup step; one whose saved values were never made (its setup failed) is skipped."""
    for index, step in enumerate(steps):
        label = _label(phase, index, step, saved)
        try:
            run = run_step(session, step, saved)
        except (TemplateError, MissingUser):
            continue
        state.exchanges.extend(run.exchanges)
        state.step_keys.extend([f"{phase} {index + 1}"] * len(run.exchanges))
        state.findings.extend(run.findings)
        if not run.ok and state.finally_failure is None:
            state.finally_failure = f"{label}: " + (f"no answer ({run.error})" if run.error else
                                                     "; ".join(map(str, run.misses[:MAX_MISSES_SHOWN])))


def _run_fixture(session: RunSession, fixture: Fixture, saved: dict[str, Any], state: CaseRun) -> None:
    if fixture.scope == "run":
        shared = _run_scoped(session, fixture, state)
        if shared.failure:
            state.error = state.error or f"run fixture {fixture.name}: {shared.failure}"
        saved.update(shared.saved)
        return
    _run_steps(session, fixture.steps, saved, state, f"fixture {fixture.name} step", main=False)


def _run_scoped(session: RunSession, fixture: Fixture, state: CaseRun) -> RunFixture:
    """A `scope: run` fixture: set up by the first case that needs it, shared after; torn down at cleanup."""
    if fixture.name in session.run_fixtures:
        return session.run_fixtures[fixture.name]
    shared = RunFixture(fixture)
    session.run_fixtures[fixture.name] = shared
    own = CaseRun()
    shared.saved = session.builtin_values(f"run-{fixture.name}")
    for used in fixture.uses:  # run fixtures it uses were set up first (fixture_order puts them before)
        if used in session.run_fixtures:
            shared.saved.update({k: v for k, v in session.run_fixtures[used].saved.items()
                                 if k not in ("case_id",)})
    if WORK_PROJECT in _names(fixture.steps + fixture.finally_steps):
        try:
            shared.saved[WORK_PROJECT] = session.work_project()
        except SetupError as problem:
            shared.failure = str(problem)
            return shared
    _run_steps(session, fixture.steps, shared.saved, own, f"run fixture {fixture.name} step", main=False)
    state.exchanges.extend(own.exchanges)
    state.step_keys.extend(own.step_keys)
    state.findings.extend(own.findings)
    shared.failure = own.failure or own.error or own.skipped
    return shared


def _names(steps: tuple[Step, ...]) -> set[str]:
    found: set[str] = set()
    for step in steps:
        expect = step.expect
        for value in (step.route, step.fetch, step.headers, step.body, expect.values, expect.headers,
                      expect.body, expect.text):
            found |= names_in(value)
    return found


def _outcome(case: CaseSpec, state: CaseRun, claimed: Callable[[str], bool]) -> tuple[Outcome, str]:
    blocking = [f for f in state.findings if f.level == Level.MUST and not f.internal]
    if state.unsupported:
        return Outcome.UNSUPPORTED, state.unsupported
    if state.error:
        return Outcome.ERROR, state.error
    if state.skipped:
        return Outcome.SKIPPED, state.skipped
    if state.absent and not claimed(case.profile):
        # Passed or failed, the answer came from a method the server does not have: nothing was tested.
        return Outcome.UNSUPPORTED, f"the server does not have this route: {state.absent}"
    if state.failure:
        return Outcome.FAILED, state.failure
    if blocking:
        first = blocking[0]
        more = f" (+{len(blocking) - 1} more MUST findings)" if len(blocking) > 1 else ""
        where = f" at {first.path}" if first.path else ""
        return Outcome.FAILED, f"check {first.check}: {first.message}{where}{more}"
    if state.finally_failure:
        return Outcome.FAILED, f"cleanup failed: {state.finally_failure}"
    return Outcome.PASSED, ""


def run_case(session: RunSession, case: CaseSpec, suite: CaseSuite | None = None) -> Result:
    """Run one case against the session's server; never raises for anything the server does."""
    suite = suite if suite is not None else session.suite
    if case.generate is not None:  # one run per generated example (engine/generated.py)
        from .generated import run_generated
        return run_generated(session, case, suite, run_case)
    started = time.monotonic()
    state = CaseRun()
    saved: dict[str, Any] = {**session.builtin_values(case.id), **case.values}
    if not session.config.selects(case.profile):
        state.skipped = f"profile {case.profile!r} is not selected"
    else:
        _execute(session, case, suite, saved, state)
    outcome, message = _outcome(case, state, session.config.claimed)
    message = "; ".join(filter(None, [message, *state.notes]))
    declared = [r for r in case.routes if "{" not in r]
    return Result(id=case.uid, title=case.title, area=case.area, topic=case.topic, level=case.level,
                  profile=case.profile, outcome=outcome, source=case.source,
                  routes=list(dict.fromkeys(declared + state.routes)), message=session.scrub_text(message),
                  duration_ms=int((time.monotonic() - started) * 1000), exchanges=state.exchanges,
                  findings=state.findings, exchange_steps=state.step_keys)


def _execute(session: RunSession, case: CaseSpec, suite: CaseSuite, saved: dict[str, Any],
             state: CaseRun) -> None:
    fixtures = suite.fixture_order(case)
    started: list[Fixture] = []
    try:
        try:
            if WORK_PROJECT in _names(case.steps + case.finally_steps) | _fixture_names(fixtures):
                saved[WORK_PROJECT] = session.work_project()
        except SetupError as problem:
            state.error = str(problem)
            return
        for fixture in fixtures:
            if fixture.scope != "run":
                started.append(fixture)
            _run_fixture(session, fixture, saved, state)
            if state.stopped:
                return
        _run_steps(session, case.steps, saved, state, "step", main=True)
    finally:
        _run_finally(session, case.finally_steps, saved, state, "finally")
        for fixture in reversed(started):
            _run_finally(session, fixture.finally_steps, saved, state, f"fixture {fixture.name} finally")


def _fixture_names(fixtures: list[Fixture]) -> set[str]:
    found: set[str] = set()
    for fixture in fixtures:
        if fixture.scope != "run":
            found |= _names(fixture.steps + fixture.finally_steps)
    return found
