"""Running cases: fixtures, steps and `finally` steps into one Result, its failure kept as data.

The outcome rules of the run live here, and so does the teardown of the `scope: run` fixtures the runner set
up: it hands the session `finalize_run_fixtures` as a cleanup hook (no engine module calls back into this one).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..cases.model import CaseSpec, CaseSuite, Fixture, Step
from ..cases.template import TemplateError, names_in, render
from ..model import (
    RESULT_MESSAGE_LIMIT,
    Exchange,
    Failure,
    FailurePhase,
    Finding,
    Level,
    Mismatch,
    Outcome,
    Result,
    UnsupportedReason,
    bounded_text,
)
from .session import RunFixture, RunSession, SetupError
from .steps import MissingUser, StepRun, run_step

if TYPE_CHECKING:
    from .cleanup import CleanupReport

WORK_PROJECT = "work_project"
MAX_MISSES_SHOWN = 3
# How many MUST findings of its exchange a `check` failure keeps as misses (results.json keeps every finding).
MAX_CHECK_MISSES = 10
FAILING = (Outcome.FAILED, Outcome.ERROR)


@dataclass(frozen=True)
class Stage:
    """A list of steps and where it runs: the failure phase it reports, its fixture, the words of its labels."""

    phase: FailurePhase
    words: str            # "step", "fixture f step", "run fixture f step", "finally", "fixture f finally"
    fixture: str = ""


CASE_STEPS = Stage(FailurePhase.STEP, "step")
CASE_FINALLY = Stage(FailurePhase.FINALLY, "finally")


def fixture_stage(fixture: Fixture, *, cleanup: bool = False) -> Stage:
    """The stage of a fixture's steps (or, with `cleanup`, of its `finally` steps)."""
    scope = "run fixture" if fixture.scope == "run" else "fixture"
    if cleanup:
        return Stage(FailurePhase.FINALLY, f"{scope} {fixture.name} finally", fixture.name)
    phase = FailurePhase.RUN_FIXTURE if fixture.scope == "run" else FailurePhase.FIXTURE
    return Stage(phase, f"{scope} {fixture.name} step", fixture.name)


@dataclass(frozen=True)
class StepPlace:
    """One step of a stage: its index (from 0), the step, and its target as sent (templates filled)."""

    stage: Stage
    index: int
    step: Step
    target: str

    @property
    def key(self) -> str:
        """The step's key ("step 2", "fixture f step 1"): differential mode pairs two runs' steps by it."""
        return f"{self.stage.words} {self.index + 1}"

    @property
    def label(self) -> str:
        name = f" [{self.step.name}]" if self.step.name else ""
        return f"{self.key}{name} {self.step.method} {self.target} ({self.step.location})"

    def failure(self, exchange_index: int | None, sent: Exchange | None, *, phase: FailurePhase | None = None,
                misses: tuple[Mismatch, ...] = (), error: str = "") -> Failure:
        """This step's failure record; the path is the one sent when an exchange was recorded."""
        return Failure(phase=phase or self.stage.phase, step=self.index + 1, step_name=self.step.name,
                       fixture=self.stage.fixture, location=str(self.step.location), method=self.step.method,
                       path=sent.request.path if sent is not None else self.target, exchange_index=exchange_index,
                       misses=misses, error=error)


def _place(stage: Stage, index: int, step: Step, saved: dict[str, Any]) -> StepPlace:
    try:
        target = render(step.target, saved)
    except TemplateError:
        target = step.target
    return StepPlace(stage, index, step, target if isinstance(target, str) else json.dumps(target))


@dataclass(frozen=True)
class Problem:
    """A reason a case did not pass: the words its message gives, and the same as a failure record."""

    text: str
    failure: Failure


def _check_misses(findings: list[Finding]) -> tuple[Mismatch, ...]:
    return tuple(Mismatch(path=f.path, matcher=f.check, text=f.message, expected=f.expected, actual=f.actual,
                          actual_missing=f.actual is None) for f in findings[:MAX_CHECK_MISSES])


def _blocking(finding: Finding) -> bool:
    return finding.level == Level.MUST and not finding.internal


@dataclass
class CaseRun:
    """What a case's steps produced so far; decides the outcome, the message and the failure record. Exchange
    indexes (of failures and findings) count in this run's `exchanges`."""

    exchanges: list[Exchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    failure: Problem | None = None        # the first step (fixture or case) that missed its expectations
    absent: str | None = None             # evidence that the server lacks an optional route a step called
    error: Problem | None = None          # a transport error or a setup problem
    skipped: str | None = None
    unsupported: str | None = None        # the run cannot test the case: no token for its second user
    finally_failure: Problem | None = None
    check_failure: Failure | None = None  # where the first MUST finding of a protocol check was drawn
    notes: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    # The step each exchange came from ("step 2", "fixture f step 1", "finally 1"): differential mode
    # compares two runs step by step.
    step_keys: list[str] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        return bool(self.failure or self.error or self.skipped or self.unsupported)

    def take(self, run: StepRun, place: StepPlace) -> int | None:
        """Keep the step's exchanges and findings (each finding with the index of its exchange); the index of
        the step's last exchange (the one its verdict is about), None if nothing was sent."""
        offset = len(self.exchanges)
        self.exchanges.extend(run.exchanges)
        self.step_keys.extend([place.key] * len(run.exchanges))
        last = offset + len(run.exchanges) - 1 if run.exchanges else None
        # A step's findings are not told apart by poll: they are put on its last exchange.
        findings = [dataclasses.replace(f, exchange_index=last) for f in run.findings]
        self.findings.extend(findings)
        blocking = [f for f in findings if _blocking(f)]
        if blocking and self.check_failure is None:
            self.check_failure = place.failure(last, self.exchanges[last] if last is not None else None,
                                               phase=FailurePhase.CHECK, misses=_check_misses(blocking))
        return last

    def join(self, other: CaseRun) -> int:
        """Add the exchanges and findings of another run (a run fixture's own) after ours; their offset."""
        offset = len(self.exchanges)
        self.exchanges.extend(other.exchanges)
        self.step_keys.extend(other.step_keys)
        self.findings.extend(f if f.exchange_index is None else
                             dataclasses.replace(f, exchange_index=f.exchange_index + offset) for f in other.findings)
        if self.check_failure is None and other.check_failure is not None:
            self.check_failure = other.check_failure.shifted(offset)
        return offset

    def absorb(self, run: StepRun, place: StepPlace, *, main: bool) -> None:
        """A step of the case or of a fixture: its exchanges, findings, notes, routes and verdict."""
        last = self.take(run, place)
        sent = self.exchanges[last] if last is not None else None
        if run.note:
            self.notes.append(f"{place.label}: {run.note}")
        if main:
            called = [e.route for e in run.exchanges if e.route] + ([run.route] if run.route else [])
            self.routes.extend(route for route in dict.fromkeys(called) if route not in self.routes)
        if run.absent and self.absent is None:
            self.absent = f"{place.label}: {run.absent}"
        if run.error is not None:
            if self.error is None:
                self.error = Problem(f"{place.label}: no answer ({run.error})",
                                     place.failure(last, sent, error=run.error))
        elif run.misses and self.failure is None:
            shown = "; ".join(map(str, run.misses[:MAX_MISSES_SHOWN]))
            more = f" (+{len(run.misses) - MAX_MISSES_SHOWN} more)" if len(run.misses) > MAX_MISSES_SHOWN else ""
            self.failure = Problem(f"{place.label}: {shown}{more}",
                                   place.failure(last, sent, misses=tuple(m.record() for m in run.misses)))

    def absorb_cleanup(self, run: StepRun, place: StepPlace) -> None:
        """A `finally` step: its exchanges and findings; the first that did not do what it should is kept."""
        last = self.take(run, place)
        if run.ok or self.finally_failure is not None:
            return
        sent = self.exchanges[last] if last is not None else None
        if run.error:
            self.finally_failure = Problem(f"{place.label}: no answer ({run.error})",
                                           place.failure(last, sent, error=run.error))
        else:
            self.finally_failure = Problem(f"{place.label}: " + "; ".join(map(str, run.misses[:MAX_MISSES_SHOWN])),
                                           place.failure(last, sent, misses=tuple(m.record() for m in run.misses)))


def _run_steps(session: RunSession, steps: tuple[Step, ...], saved: dict[str, Any], state: CaseRun,
               stage: Stage, *, main: bool) -> None:
    """Run steps in order until one fails."""
    for index, step in enumerate(steps):
        place = _place(stage, index, step, saved)
        try:
            run = run_step(session, step, saved)
        except TemplateError as problem:
            if state.failure is None:
                state.failure = Problem(f"{place.label}: {problem}", place.failure(None, None, error=str(problem)))
            return
        except MissingUser as missing:
            state.unsupported = (f"no token for the second user (--token2): {place.label} runs as user "
                                 f"{missing.args[0]!r}")
            return
        state.absorb(run, place, main=main)
        if not run.ok:
            return


def _run_finally(session: RunSession, steps: tuple[Step, ...], saved: dict[str, Any], state: CaseRun,
                 stage: Stage) -> None:
    """Run every cleanup step; one whose saved values were never made (its setup failed) is skipped."""
    for index, step in enumerate(steps):
        place = _place(stage, index, step, saved)
        try:
            run = run_step(session, step, saved)
        except (TemplateError, MissingUser):
            continue
        state.absorb_cleanup(run, place)


def finalize_run_fixtures(session: RunSession, report: CleanupReport) -> None:
    """Run the `finally` steps of every `scope: run` fixture not finalised yet, into the cleanup report (its
    exchanges, and what failed). The session runs this at cleanup: the runner hands it over when it first
    sets up a run fixture."""
    for shared in list(session.run_fixtures.values()):
        if shared.finalized:
            continue
        shared.finalized = True
        state = CaseRun()
        _run_finally(session, shared.fixture.finally_steps, shared.saved, state,
                     fixture_stage(shared.fixture, cleanup=True))
        report.exchanges.extend(state.exchanges)
        if state.finally_failure:
            report.failed.append(session.redactor.scrub(state.finally_failure.text))


def _run_fixture(session: RunSession, fixture: Fixture, saved: dict[str, Any], state: CaseRun) -> None:
    if fixture.scope == "run":
        shared, offset = _run_scoped(session, fixture, state)
        if shared.problem and state.error is None:
            failure = shared.failure or Failure(FailurePhase.RUN_FIXTURE, fixture=fixture.name, error=shared.problem)
            # Its exchanges are in the record of the case that set it up, and of no other case.
            failure = failure.shifted(offset) if offset is not None else dataclasses.replace(failure,
                                                                                             exchange_index=None)
            state.error = Problem(f"run fixture {fixture.name}: {shared.problem}", failure)
        saved.update(shared.saved)
        return
    _run_steps(session, fixture.steps, saved, state, fixture_stage(fixture), main=False)


def _run_scoped(session: RunSession, fixture: Fixture, state: CaseRun) -> tuple[RunFixture, int | None]:
    """A `scope: run` fixture: set up by the first case that needs it, shared after; torn down at cleanup.
    (the fixture, the offset of its own exchanges in `state` when this case set it up, else None)."""
    if fixture.name in session.run_fixtures:
        return session.run_fixtures[fixture.name], None
    shared = RunFixture(fixture)
    session.run_fixtures[fixture.name] = shared
    session.add_cleanup_hook(finalize_run_fixtures)
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
            shared.problem = str(problem)
            shared.failure = Failure(FailurePhase.SETUP, fixture=fixture.name, error=str(problem))
            return shared, None
    _run_steps(session, fixture.steps, shared.saved, own, fixture_stage(fixture), main=False)
    offset = state.join(own)
    stopped = own.failure or own.error
    if stopped is not None:
        shared.problem, shared.failure = stopped.text, stopped.failure
    return shared, offset


def _names(steps: tuple[Step, ...]) -> set[str]:
    found: set[str] = set()
    for step in steps:
        expect = step.expect
        for value in (step.route, step.fetch, step.headers, step.body, expect.values, expect.headers,
                      expect.body, expect.text):
            found |= names_in(value)
    return found


def _outcome(case: CaseSpec, state: CaseRun, claimed: Callable[[str], bool]
             ) -> tuple[Outcome, str, Failure | None]:
    blocking = [f for f in state.findings if _blocking(f)]
    if state.unsupported:
        return Outcome.UNSUPPORTED, state.unsupported, None
    if state.error:
        return Outcome.ERROR, state.error.text, state.error.failure
    if state.skipped:
        return Outcome.SKIPPED, state.skipped, None
    if state.absent and not claimed(case.profile):
        # Passed or failed, the answer came from a method the server does not have: nothing was tested.
        return Outcome.UNSUPPORTED, f"the server does not have this route: {state.absent}", None
    if state.failure:
        return Outcome.FAILED, state.failure.text, state.failure.failure
    if blocking:
        first = blocking[0]
        more = f" (+{len(blocking) - 1} more MUST findings)" if len(blocking) > 1 else ""
        where = f" at {first.path}" if first.path else ""
        return Outcome.FAILED, f"check {first.check}: {first.message}{where}{more}", state.check_failure
    if state.finally_failure:
        return Outcome.FAILED, f"cleanup failed: {state.finally_failure.text}", state.finally_failure.failure
    return Outcome.PASSED, "", None


def _scrubbed(session: RunSession, failure: Failure | None) -> Failure | None:
    """The record with every secret replaced by *** (servers may echo tokens into what a step compared)."""
    if failure is None or not session.config.secrets:
        return failure
    return Failure.from_json(session.redactor.scrub_json(failure.to_json()))


def run_case(session: RunSession, case: CaseSpec, suite: CaseSuite | None = None, attempt: int = 0) -> Result:
    """Run one case against the session's server; never raises for anything the server does."""
    suite = suite if suite is not None else session.suite
    if case.generate is not None:  # one run per generated example (engine/generated.py)
        from .generated import run_generated
        result = run_generated(session, case, suite, run_case)
        if result.outcome in FAILING and result.failure is None:   # no example could run at all
            result.failure = Failure(FailurePhase.SETUP, error=result.message)
        return result
    started = time.monotonic()
    state = CaseRun()
    saved: dict[str, Any] = {**session.builtin_values(case.id, attempt), **case.values}
    if not session.config.selects(case.profile):
        state.skipped = f"profile {case.profile!r} is not selected"
    else:
        _execute(session, case, suite, saved, state)
    outcome, message, failure = _outcome(case, state, session.config.claimed)
    message = bounded_text("; ".join(filter(None, [message, *state.notes])), RESULT_MESSAGE_LIMIT)
    declared = [r for r in case.routes if "{" not in r]
    return Result(id=case.uid, title=case.title, area=case.area, topic=case.topic, level=case.level,
                  profile=case.profile, outcome=outcome, source=case.source,
                  routes=list(dict.fromkeys(declared + state.routes)), message=session.redactor.scrub(message),
                  duration_ms=int((time.monotonic() - started) * 1000),
                  # What the run keeps of the case: bodies within the run's budget, findings' values bounded.
                  exchanges=[session.bodies.keep(exchange) for exchange in state.exchanges],
                  findings=[finding.bounded() for finding in state.findings], exchange_steps=state.step_keys,
                  failure=_scrubbed(session, failure),
                  reason=_reason(outcome, state))


def _reason(outcome: Outcome, state: CaseRun) -> str:
    if outcome != Outcome.UNSUPPORTED:
        return ""
    return (UnsupportedReason.NO_SECOND_USER if state.unsupported else UnsupportedReason.ROUTE_ABSENT).value


def _execute(session: RunSession, case: CaseSpec, suite: CaseSuite, saved: dict[str, Any],
             state: CaseRun) -> None:
    fixtures = suite.fixture_order(case)
    started: list[Fixture] = []
    try:
        try:
            if WORK_PROJECT in _names(case.steps + case.finally_steps) | _fixture_names(fixtures):
                saved[WORK_PROJECT] = session.work_project()
        except SetupError as problem:
            state.error = Problem(str(problem), Failure(FailurePhase.SETUP, error=str(problem)))
            return
        for fixture in fixtures:
            if fixture.scope != "run":
                started.append(fixture)
            _run_fixture(session, fixture, saved, state)
            if state.stopped:
                return
        _run_steps(session, case.steps, saved, state, CASE_STEPS, main=True)
    finally:
        if not session.keep:   # --keep: what the case made stays, to be looked at
            _run_finally(session, case.finally_steps, saved, state, CASE_FINALLY)
            for fixture in reversed(started):
                _run_finally(session, fixture.finally_steps, saved, state, fixture_stage(fixture, cleanup=True))


def _fixture_names(fixtures: list[Fixture]) -> set[str]:
    found: set[str] = set()
    for fixture in fixtures:
        if fixture.scope != "run":
            found |= _names(fixture.steps + fixture.finally_steps)
    return found
