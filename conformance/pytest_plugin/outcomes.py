"""The one table between dxconform outcomes and pytest's: how each shows in pytest, and how to read it back."""

from __future__ import annotations

from typing import Any

from ..model import Outcome

# Reports recognise an unsupported case by this prefix of its skip reason.
UNSUPPORTED_PREFIX = "dxconform-unsupported: "

# dxconform outcome -> how pytest shows it. xfailed/xpassed come from an expectations file (items.py raises
# pytest.xfail; plugin.py marks an xpassed report with `wasxfail`), flaky from reruns (reruns.py): it passed.
PYTEST_FACE = {
    Outcome.PASSED: "passed",
    Outcome.FAILED: "failed",          # raised in the call phase
    Outcome.ERROR: "error",            # raised in the setup phase: pytest counts it as an error
    Outcome.UNSUPPORTED: "skipped",    # pytest.skip(UNSUPPORTED_PREFIX + reason)
    Outcome.SKIPPED: "skipped",        # pytest.skip(reason)
    Outcome.XFAILED: "xfailed",
    Outcome.XPASSED: "xpassed",
    Outcome.FLAKY: "passed",
}


def skip_reason(report: Any) -> str:
    """The reason text of a skipped pytest report ('' for any other)."""
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return ""


def outcome_of_report(report: Any) -> Outcome:
    """The dxconform outcome of a pytest report of one of our items that carries no Result (a crash)."""
    if report.skipped:
        return Outcome.UNSUPPORTED if skip_reason(report).startswith(UNSUPPORTED_PREFIX) else Outcome.SKIPPED
    if report.failed:
        return Outcome.FAILED if report.when == "call" else Outcome.ERROR
    return Outcome.PASSED
