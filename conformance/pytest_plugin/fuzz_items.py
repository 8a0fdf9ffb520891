"""Fuzzing inside a run: one pytest item per (mode, fuzzable route), each a seeded fuzzing run of that route.
The routes are those of the core profile and of every profile the fuzzer can drive (executables); a route
of a profile the server neither claims nor has (profile probe) is reported unsupported, not fuzzed.

Node ids read `fuzz/<mode>::<route>` (stateful: `fuzz/stateful::sequences`), so `-k`, `-n` and the reports
treat them like cases. Each item's results: one passed result `fuzz/<mode>/<route>` when the route ran
clean, else one failed result per broken rule `fuzz/<mode>/<route>::<rule>` (the engine's de-duplicated
findings, shrunk, with curl and dxpy reproductions). The hypothesis seed of an item depends only on the run
seed, the mode and the route, so the requests do not depend on which worker runs it or in what order.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from ..fuzz import FuzzConfig, FuzzReport, Mode
from ..fuzz.bridge import CORE, FUZZ_PROFILES, fuzzable_routes, route_profile
from ..fuzz.engine import NEVER_FUZZED, run_fuzz
from ..fuzz.findings import FUZZ_SOURCE, TOPIC
from ..fuzz.pool import PoolError
from ..fuzz.strategies import route_class
from ..gate import apply_to_json
from ..model import Area, Level, Outcome, Result, UnsupportedReason
from ..redaction import redactor
from ..spec import load_spec
from .failure_text import failure_text
from .fuzz_plan import FuzzPlan, plan_of
from .gather import MORE_RESULTS_ATTRIBUTE
from .items import marker_name, register_marker
from .options import tokens_from_environment
from .outcomes import UNSUPPORTED_PREFIX
from .state import state_of

FUZZ_KEY = "fuzz"                    # results.json: a fuzz result's own record (mode, route, seed, steps ...)
STATEFUL_ITEM = "sequences"
FUZZ_MARKER = "fuzz"
# Whatever the server does, one item stops starting new examples after this long.
ITEM_MAX_SECONDS = 300.0
# The area a clean (mode, route) result counts under: the kind of rule that mode mostly tests.
CLEAN_AREA = {Mode.POSITIVE: Area.JSON_OUTPUT, Mode.NEGATIVE: Area.JSON_INPUT, Mode.STATEFUL: Area.SEMANTICS}


# -- collection -------------------------------------------------------------------------------------------
def add_items(session: pytest.Session, items: list[pytest.Item]) -> None:
    """Append the fuzz items when fuzzing is on; with --dx-fuzz-only, the cases are deselected."""
    config = session.config
    plan = plan_of(config)
    if plan.fuzz_only:
        dropped = [item for item in items if not isinstance(item, FuzzItem)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if isinstance(item, FuzzItem)]
    if not plan.enabled:
        return
    for mode in plan.modes:
        collector = FuzzModeCollector.from_parent(session, name=f"fuzz/{mode.value}", nodeid=f"fuzz/{mode.value}",
                                                  mode=mode)
        # genitems reports the collection like pytest's own (counts, --collect-only, xdist's item lists).
        collected = list(session.genitems(collector))
        # Like cases, fuzz items of a profile not asked for with --dx-profile are not part of the run.
        options = state_of(config).options
        dropped = [item for item in collected if not options.selects(item.profile)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items.extend(item for item in collected if options.selects(item.profile))


class FuzzModeCollector(pytest.Collector):
    """The parent of one mode's items: one per fuzzable route, or the one stateful item."""

    def __init__(self, *, mode: Mode, **kwargs: Any):
        super().__init__(**kwargs)
        self.mode = mode

    def collect(self):
        names = [STATEFUL_ITEM] if self.mode is Mode.STATEFUL else fuzzable_routes(profiles=FUZZ_PROFILES)
        return [FuzzItem.from_parent(self, name=name, mode=self.mode) for name in names]


class FuzzFailed(Exception):
    def __init__(self, results: list[dict[str, Any]]):
        super().__init__(f"{len(results)} fuzz finding(s)")
        self.results = results


class FuzzItem(pytest.Item):
    """One (mode, route) fuzzing run. setup() fuzzes (a run that cannot start is a pytest error);
    runtest() judges the results."""

    def __init__(self, *, mode: Mode, **kwargs: Any):
        super().__init__(**kwargs)
        self.mode = mode
        self.route = None if mode is Mode.STATEFUL else self.name
        self.profile = route_profile(load_spec(), self.route) if self.route else CORE
        self.results: list[dict[str, Any]] = []
        level = Level.MUST.value
        for name, description in ((marker_name("area", CLEAN_AREA[mode].value), "cases of an area"),
                                  (level, "cases at a level"), (FUZZ_MARKER, "generated requests (fuzzing)")):
            register_marker(self.config, name, description)
            self.add_marker(name)
        self.user_properties.extend([("area", CLEAN_AREA[mode].value), ("level", level), ("profile", self.profile),
                                     ("route", self.route or "*")])

    # -- running ----------------------------------------------------------------------------------------
    def setup(self) -> None:
        state = state_of(self.config)
        stop = state.stop_reason()
        if stop is not None:   # the deadline passed, or the server stopped answering: not run
            state.count_not_run(stop[0])
            self.results = [dict(self._clean_result(Outcome.SKIPPED, stop[1]), reason=stop[0].value)]
            return
        plan = plan_of(self.config)
        reason = self._not_fuzzed(plan)
        if reason is not None:
            unsupported, text = reason
            self.results = [self._clean_result(Outcome.UNSUPPORTED if unsupported else Outcome.SKIPPED, text)]
            return
        config = FuzzConfig(state.options.server or "", tokens_from_environment(), examples=plan.examples,
                            seed=plan.seed, modes=(self.mode,), routes=(self.route,) if self.route else None,
                            profiles=plan.profiles, containers=plan.containers, max_seconds=ITEM_MAX_SECONDS,
                            timeout=state.options.timeout, run_prefix=f"{state.run_prefix}-fz")
        try:
            report = run_fuzz(config)
        except PoolError as problem:
            self.results = [self._clean_result(Outcome.ERROR, f"fuzzing could not start: {problem}")]
            pytest.fail(failure_text(self.results[0]), pytrace=False)
        self.results = self._judge(self._results_of(report), state.expectations())

    def _not_fuzzed(self, plan: FuzzPlan) -> tuple[bool, str] | None:
        """(unsupported?, why) when this route is not fuzzed in this run."""
        if self.route is None:
            return None
        if self.route in NEVER_FUZZED:
            return False, f"not fuzzed: {NEVER_FUZZED[self.route]}"
        if self.profile not in plan.profiles:
            return True, (f"profile {self.profile} not implemented by the server (neither claimed with --claims "
                          "nor detected by the profile probe): its routes are not fuzzed")
        if route_class(self.route) == "container" and not plan.containers:
            return True, ("no container lent (--fuzz-container ID): the API has no route that makes one, "
                          "so container routes are fuzzed only on a container the caller names")
        return None

    def _results_of(self, report: FuzzReport) -> list[dict[str, Any]]:
        stats = {"examples": sum(m.get(self.mode.value, 0) for m in report.counts.values()), "sent": report.sent,
                 "requests_sha256": hashlib.sha256("\n".join(report.requests).encode()).hexdigest()}
        notes = "; ".join(report.notes + [f"cleanup: {p}" for p in report.cleanup_problems])
        found = []
        for finding in report.finding_list():
            record = finding.to_result().to_json()
            if notes:
                record["message"] += f"\nnotes: {notes}"
            saved = {k: v for k, v in finding.to_json().items() if k not in ("exchange", "findings")}
            record[FUZZ_KEY] = {**saved, **stats}
            found.append(record)
        if found:
            return found
        routes = sorted(report.counts) if self.route is None else [self.route]
        message = (f"{stats['examples']} generated examples ({stats['sent']} requests), seed {report.seed}: "
                   f"no rule broken" + (f"; notes: {notes}" if notes else ""))
        record = self._clean_result(Outcome.PASSED, message, routes)
        record[FUZZ_KEY] = {"mode": self.mode.value, "route": self.route, "seed": report.seed, **stats}
        return [record]

    def _clean_result(self, outcome: Outcome, message: str, routes: list[str] | None = None) -> dict[str, Any]:
        route = self.route or "*"
        title = (f"{self.mode.value} fuzzing of {route}" if self.route else
                 "stateful fuzzing: sequences from */new to the instance routes")
        return Result(id=f"fuzz/{self.mode.value}/{route}" if self.route else f"fuzz/{self.mode.value}",
                      title=title, area=CLEAN_AREA[self.mode], topic=TOPIC, level=Level.MUST, profile=self.profile,
                      outcome=outcome, source=FUZZ_SOURCE, message=message,
                      routes=routes if routes is not None else ([self.route] if self.route else []),
                      reason=UnsupportedReason.NOT_FUZZED.value if outcome == Outcome.UNSUPPORTED else ""
                      ).to_json()

    @staticmethod
    def _judge(results: list[dict[str, Any]], expectations) -> list[dict[str, Any]]:
        """Expectations apply to fuzz results by id, as to cases; failures first."""
        judged = [apply_to_json(record, expectations) for record in results]
        return sorted(judged, key=lambda r: r["outcome"] not in (Outcome.FAILED.value, Outcome.ERROR.value))

    def runtest(self) -> None:
        outcomes = {r["outcome"] for r in self.results}
        failed = [r for r in self.results if r["outcome"] in (Outcome.FAILED.value, Outcome.ERROR.value)]
        if failed:
            raise FuzzFailed(failed)
        if outcomes == {Outcome.UNSUPPORTED.value}:
            pytest.skip(UNSUPPORTED_PREFIX + self.results[0]["message"])
        if outcomes == {Outcome.SKIPPED.value}:
            pytest.skip(self.results[0]["message"])
        if outcomes == {Outcome.XFAILED.value}:
            pytest.xfail(self.results[0]["message"])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, FuzzFailed):
            return "\n\n".join(failure_text(r) for r in excinfo.value.results)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.nodeid, None, f"{self.nodeid}: {self.mode.value} fuzzing"


def attach_results(item: FuzzItem, report: pytest.TestReport, call: pytest.CallInfo[None],
                   result_attribute: str) -> list[dict[str, Any]] | None:
    """Put the item's results on the report that decides its outcome; the first (worst) one as the report's
    result, the others under MORE_RESULTS_ATTRIBUTE. Returns the results attached (None on other phases)."""
    if not (call.when == "call" or (call.when == "setup" and report.failed)):
        return None
    results = item.results or [item._clean_result(
        Outcome.ERROR, f"internal error: {str(report.longrepr).strip().splitlines()[-1][:500]}")]
    scrubber = redactor(tokens_from_environment().values())
    setattr(report, result_attribute, json.dumps(scrubber.scrub_json(results[0])))
    if len(results) > 1:
        setattr(report, MORE_RESULTS_ATTRIBUTE, json.dumps(scrubber.scrub_json(results[1:])))
    if results[0]["outcome"] == Outcome.XPASSED.value:
        report.wasxfail = results[0]["message"]
    return results
