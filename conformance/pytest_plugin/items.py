"""Case files as pytest collectors and cases as pytest items: markers, ids, running, failure text."""

from __future__ import annotations

from typing import Any

import pytest

from ..cases.model import CaseSpec
from ..engine import run_case
from ..gate import Expectation, verdict
from ..model import Area, Level, NotRunReason, Outcome, Result
from .failure_text import failure_text
from .outcomes import UNSUPPORTED_PREFIX
from .reruns import run_with_reruns
from .state import state_of
from .suite import label_of


def marker_name(kind: str, value: str) -> str:
    """`area`, `url-forms` -> `area_url_forms`; levels stay as written (MUST, SHOULD, MAY). Each run of
    characters other than ASCII letters and digits becomes one `_`."""
    if kind == "level":
        return value
    pieces: list[str] = []
    in_gap = False
    for char in value:
        kept = char.isascii() and char.isalnum()
        if kept or not in_gap:
            pieces.append(char if kept else "_")
        in_gap = not kept
    return f"{kind}_" + "".join(pieces)


STATIC_MARKERS = ([(marker_name("area", a.value), f"cases of area {a.value}") for a in Area]
                  + [(lv.value, f"cases at level {lv.value}") for lv in Level])


def register_marker(config: pytest.Config, name: str, description: str) -> None:
    """Declare a marker (so --strict-markers accepts it) unless it is declared already."""
    if not any(line.split(":", 1)[0].strip() == name for line in config.getini("markers")):
        config.addinivalue_line("markers", f"{name}: {description}")


class CaseFileError(Exception):
    """The file's own problems, each `file:line: message`."""


class CaseFile(pytest.File):
    """One YAML case file; its cases come from the suite loaded once for every file of the run."""

    def collect(self):
        loaded = state_of(self.config).loaded()
        label = label_of(self.path, self.config.rootpath)
        mine = loaded.errors_of(label)
        if mine:
            raise CaseFileError("\n".join(map(str, mine)))
        for case in loaded.cases_of(label):
            yield CaseItem.from_parent(self, name=case.uid.split("::", 1)[1], case=case)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseFileError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)


class CaseFailed(Exception):
    """The case ran and the server did not do what it must (the call phase: pytest shows it failed)."""

    def __init__(self, result: Result):
        super().__init__(result.message)
        self.result = result


def not_run(case: CaseSpec, reason: NotRunReason, message: str) -> Result:
    """The result of a case the run stopped before: skipped (never passed), with why as its `reason`."""
    return Result(id=case.uid, title=case.title, area=case.area, topic=case.topic, level=case.level,
                  profile=case.profile, outcome=Outcome.SKIPPED, source=case.source,
                  routes=[r for r in case.routes if "{" not in r], message=message, reason=reason.value)


class CaseItem(pytest.Item):
    """One case. setup() runs it (so a case that cannot finish is a pytest *error*); runtest() judges it."""

    def __init__(self, *, case: CaseSpec, **kwargs: Any):
        super().__init__(**kwargs)
        self.case = case
        self.result: Result | None = None
        self.attempts: list[Result] = []             # every run of the case (more than one after a rerun)
        self.expectation: Expectation | None = None  # what the expectations file says of it
        for kind, value in (("area", case.area.value), ("level", case.level.value), ("profile", case.profile)):
            name = marker_name(kind, value)
            register_marker(self.config, name, f"cases of profile {value}")
            self.add_marker(name)
        # -k matches on the title too, not only on the id.
        self.extra_keyword_matches.add(case.title)
        self.user_properties.extend([("area", case.area.value), ("level", case.level.value),
                                     ("profile", case.profile), ("route", " ".join(case.routes))])

    def setup(self) -> None:
        state = state_of(self.config)
        stop = state.stop_reason()
        if stop is not None:   # the deadline passed, or the server stopped answering: the case is not run
            state.count_not_run(stop[0])
            self.result = not_run(self.case, *stop)
            self.attempts = [self.result]
            return
        self.expectation = state.expectations().get(self.case.uid)
        # A known failure is not rerun: it is expected to fail, and reruns would only cost time.
        reruns = 0 if self.expectation is not None else state.options.reruns
        self.result, self.attempts = run_with_reruns(
            lambda attempt: run_case(state.session(), self.case, attempt=attempt), reruns)
        outcome, self.result.message = verdict(self.result.outcome.value, self.result.message, self.expectation)
        self.result.outcome = Outcome(outcome)
        # junit.xml's `route` property: the route keys the case really called, not its templates.
        self.user_properties[:] = [(k, v) for k, v in self.user_properties if k != "route"]
        self.user_properties.append(("route", " ".join(self.result.routes)))
        if self.result.outcome == Outcome.ERROR:
            # pytrace=False: pytest prints the text alone, no traceback of the suite's own code.
            pytest.fail(failure_text(self.result.to_json()), pytrace=False)

    def runtest(self) -> None:
        assert self.result is not None, "setup() runs the case"
        outcome = self.result.outcome
        if outcome == Outcome.FAILED:
            raise CaseFailed(self.result)
        if outcome == Outcome.UNSUPPORTED:
            pytest.skip(UNSUPPORTED_PREFIX + self.result.message)
        if outcome == Outcome.SKIPPED:
            pytest.skip(self.result.message)
        if outcome == Outcome.XFAILED:
            pytest.xfail(self.result.message)
        # XPASSED and FLAKY pass in pytest's eyes (plugin.py marks an xpassed report as such).

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseFailed):
            return failure_text(excinfo.value.result.to_json())
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, self.case.location.line - 1, f"{self.case.uid}: {self.case.title}"
