"""Running cases in this process, in a fixed order, keeping each case's Result with its exchanges per step."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..cases import load_suite
from ..cases.model import CaseSpec, CaseSuite
from ..checks import CHECKS
from ..engine import RunConfig, RunSession, SetupError, run_case
from ..model import Result


@dataclass
class RecordedRun:
    """One run of a list of cases against one server: the results in run order, and the run's volatiles."""

    server: str
    run_prefix: str
    work_project: str | None
    results: list[Result] = field(default_factory=list)
    cleanup_failures: list[str] = field(default_factory=list)


def load_cases(cases_root: Path) -> CaseSuite:
    """The suite under `cases_root`, case uids relative to its parent (`cases/<area>/<file>.yaml::<id>`)."""
    return load_suite([cases_root], base=cases_root.parent, known_checks=CHECKS)


def select_cases(suite: CaseSuite, patterns: Iterable[str] = (), profiles: frozenset[str] | None = None
                 ) -> list[CaseSpec]:
    """The suite's cases in suite order, restricted to uids matching one of the glob `patterns` (if any)
    and to the selected profiles (core always)."""
    patterns = list(patterns)
    chosen = []
    for case in suite.cases:
        if patterns and not any(fnmatch.fnmatchcase(case.uid, p) or p in case.uid for p in patterns):
            continue
        if profiles is not None and case.profile != "core" and case.profile not in profiles:
            continue
        chosen.append(case)
    return chosen


def run_cases(server: str, tokens: Mapping[str, str], suite: CaseSuite, cases: list[CaseSpec], *,
              project: str | None = None, timeout: float = 30.0,
              progress: Callable[[int, int, Result], None] | None = None) -> RecordedRun:
    """Run `cases` one after the other (order matters: two runs are compared step by step), then clean up.
    The work project is made first, so both runs of a comparison make it at the same point."""
    config = RunConfig(server=server, tokens=dict(tokens), project=project, timeout=timeout)
    session = RunSession(config, suite)
    run = RecordedRun(server=server, run_prefix=config.run_prefix, work_project=None)
    try:
        try:
            run.work_project = session.work_project()
        except SetupError:
            run.work_project = None     # every case that needs it reports the error itself
        for number, case in enumerate(cases, 1):
            result = run_case(session, case)
            run.results.append(result)
            if progress is not None:
                progress(number, len(cases), result)
    finally:
        session.close()
        report = session.cleanup_report
        if report is not None:
            run.cleanup_failures.extend(report.failed)
    return run
