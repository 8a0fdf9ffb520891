"""What one pytest process of a run holds: options, the loaded suite, the run prefix and its RunSession."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ..engine import RunSession
from ..gate import Expectation, ExpectationsError, load_expectations
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
            config = run_config(self.options, self.run_prefix, seed=plan_of(self.config).seed)
            self._session = RunSession(config, suite)
        return self._session

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
