"""The evidence of one failure, read from its records: the failing exchange, and expected against actual.

A case that failed or errored carries its failure as data (results.json `failure`: phase, step, the index of
the failing exchange, and each miss with its path, matcher, expected and actual values); a check's finding
carries its path, expected and actual values. This module reads those records and nothing else: the message
is a human summary, never read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..model import Failure, FailurePhase

# Not recorded (distinct from a recorded JSON null).
MISSING: Any = type("NotRecorded", (), {"__repr__": lambda self: "<not recorded>", "__bool__": lambda self: False})()
# The rule of a difference that a case's own expectation found (a check's difference names the check).
EXPECT_RULE = "expect"


@dataclass(frozen=True)
class Difference:
    """Expected against actual at one place of an answer (`status` is the HTTP status, `$...` the body)."""

    path: str
    expected: Any
    actual: Any
    message: str
    rule: str             # the check that found it, or "expect" for the case's own expectation
    level: str = ""
    source: str = ""
    matcher: str = ""     # which matcher of the expectation judged it (status, error, schema, $regex, equals...)

    @property
    def actual_known(self) -> bool:
        return self.actual is not MISSING


def failure_of(result: Mapping[str, Any]) -> Failure | None:
    """The result's failure record, or None (it passed, or it is a result that carries none)."""
    record = result.get("failure")
    return Failure.from_json(record) if isinstance(record, Mapping) else None


def failing_exchange_index(result: Mapping[str, Any]) -> int | None:
    """Which of the result's recorded exchanges failed: the one its failure record names. A result without a
    record whose only exchange is its evidence (a protocol check's, a fuzzing finding's) points at that one;
    otherwise (nothing sent, a setup error, several exchanges and no record) there is none to name."""
    exchanges = result.get("exchanges") or []
    failure = failure_of(result)
    if failure is None:
        return 0 if len(exchanges) == 1 else None
    index = failure.exchange_index
    return index if index is not None and 0 <= index < len(exchanges) else None


def finding_exchange_index(result: Mapping[str, Any], check: str) -> int | None:
    """Which of the result's exchanges drew the first finding of `check` (the finding's `exchange_index`)."""
    exchanges = result.get("exchanges") or []
    for finding in result.get("findings") or []:
        index = finding.get("exchange_index")
        if finding.get("check") == check and isinstance(index, int) and 0 <= index < len(exchanges):
            return index
    return None


def differences(result: Mapping[str, Any]) -> list[Difference]:
    """What the failure is about: the failed step's misses (from its record), then the MUST findings (or every
    finding, when none is at MUST). A `check` failure's misses are those findings: they are listed once."""
    found: list[Difference] = []
    failure = failure_of(result)
    if failure is not None and failure.phase != FailurePhase.CHECK:
        found += [Difference(miss.path, miss.expected, MISSING if miss.actual_missing else miss.actual, miss.text,
                             EXPECT_RULE, matcher=miss.matcher) for miss in failure.misses]
    findings = [f for f in result.get("findings") or [] if not f.get("internal")]
    blocking = [f for f in findings if f.get("level") == "MUST"] or findings
    for finding in blocking:
        found.append(Difference(finding.get("path", ""), finding.get("expected", MISSING),
                                finding.get("actual", MISSING), finding.get("message", ""),
                                finding.get("check", ""), finding.get("level", ""), finding.get("source", ""),
                                finding.get("check", "")))
    return found
