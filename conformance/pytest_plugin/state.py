"""What one pytest process of a run holds: options, the loaded suite, the run prefix and its RunSession."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..engine import RunSession
from ..gate import Expectation, ExpectationsError, load_expectations
from ..model import NotRunReason
from .fuzz_plan import plan_of
from .options import DxOptions, run_config
from .suite import LoadedSuite, load


@dataclass
class ProcessState:
    """One per pytest process (the controller, or each xdist worker). The session is made on first use
    and closed (cleaning up what the run created) at the end of the process's pytest session."""

    config: pytest.Config
    options: DxOptions
    run_prefix: str
    _loaded: LoadedSuite | None = None
    _session: RunSession | None = None
    _expectations: dict[str, Expectation] | None = None
    cleanup_failures: list[str] = field(default_factory=list)
    _closed: bool = False
    deadline_at: float | None = None       # the run's --dx-deadline as a time.time() value (None: no deadline)
    not_run: dict[str, int] = field(default_factory=dict)   # NotRunReason value -> cases this process skipped

    def loaded(self) -> LoadedSuite:
        if self._loaded is None:
            self._loaded = load(self.config, self.options)
        return self._loaded

    def expectations(self) -> dict[str, Expectation]:
        """The --dx-expectations file by result id ({} without one); a broken file is a usage error."""
        if self._expectations is None:
            self._expectations = read_expectations(self.options)
        return self._expectations

    def session(self) -> RunSession:
        if self._session is None:
            suite = self.loaded().suite
            processes = int(getattr(self.config, "workerinput", {}).get("workercount", 1))
            config = run_config(self.options, self.run_prefix, seed=plan_of(self.config).seed, processes=processes)
            self._session = RunSession(config, suite)
        return self._session

    def stop_reason(self) -> tuple[NotRunReason, str] | None:
        """Why a case must not start: the run's deadline passed, or the server stopped answering (the
        transport's breaker tripped); None while the run goes on."""
        if self.deadline_at is not None and time.time() >= self.deadline_at:
            return NotRunReason.DEADLINE, f"not run: the run's deadline passed (--deadline {self.options.deadline:g} s)"
        stopped = self._session.stopped_answering if self._session is not None else None
        if stopped is not None:
            return NotRunReason.SERVER_STOPPED, f"not run: {stopped}"
        return None

    def count_not_run(self, reason: NotRunReason) -> None:
        self.not_run[reason.value] = self.not_run.get(reason.value, 0) + 1

    @property
    def stopped_json(self) -> dict[str, Any]:
        """What this process hands the controller about a stopped run: the breaker's cause (or None) and how
        many cases it did not run, by reason."""
        breaker = self._session.stopped_answering if self._session is not None else None
        return {"breaker": breaker, "not_run": dict(self.not_run)}

    @property
    def ledger_json(self) -> dict[str, Any] | None:
        return self._session.ledger.to_json() if self._session is not None else None

    def close(self) -> None:
        """Clean up what this process created; safe to call twice, and after Ctrl-C."""
        session = self._session
        if session is None or self._closed:
            return
        self._closed = True
        try:
            session.close()
        finally:
            report = session.cleanup_report
            if report is not None:
                self.cleanup_failures.extend(report.failed)


def read_expectations(options: DxOptions) -> dict[str, Expectation]:
    if options.expectations is None:
        return {}
    try:
        return load_expectations(options.expectations)
    except ExpectationsError as problem:
        raise pytest.UsageError("dxconform: the expectations file is invalid:\n" + str(problem)) from None


STATE_KEY = pytest.StashKey[ProcessState]()


def state_of(config: pytest.Config) -> ProcessState:
    return config.stash[STATE_KEY]
