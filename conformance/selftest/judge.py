"""Verdicts of the self-test: was a fault caught by its killers (and what else broke), is the clean run clean."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalogue import Entry, matches

# Outcomes that count as "the suite noticed": a failed assertion, or a step that ended in error (a route that
# hangs never answers, so its cases end in error rather than failed).
BROKEN = ("failed", "error")
CLEAN = ("passed", "not-applicable")


@dataclass
class Verdict:
    """One run judged: `fault` None is the clean run."""

    fault: str | None
    caught: bool
    seconds: float
    returncode: int | None
    found: list[str] = field(default_factory=list)        # killers that broke
    missing: list[str] = field(default_factory=list)      # killers that did not
    collateral: list[str] = field(default_factory=list)   # other results that broke
    problems: list[str] = field(default_factory=list)     # why the verdict is not a clean catch / a clean run

    def to_json(self) -> dict[str, Any]:
        return {"fault": self.fault, "caught": self.caught, "seconds": round(self.seconds, 2),
                "returncode": self.returncode, "found": self.found, "missing": self.missing,
                "collateral": self.collateral, "problems": self.problems}


def _results(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((document or {}).get("results", []))


def broken_ids(document: dict[str, Any] | None) -> list[str]:
    return sorted(r["id"] for r in _results(document) if r.get("outcome") in BROKEN)


def judge_fault(entry: Entry, returncode: int | None, document: dict[str, Any] | None, seconds: float) -> Verdict:
    """Caught: the run wrote results, every killer broke, and a MUST fault made the run exit 1."""
    verdict = Verdict(entry.fault, False, seconds, returncode)
    if document is None:
        verdict.problems.append(f"no results (exit {returncode})")
        return verdict
    broken = broken_ids(document)
    verdict.found = [k for k in entry.killers if any(matches(i, k) for i in broken)]
    verdict.missing = [k for k in entry.killers if k not in verdict.found]
    verdict.collateral = [i for i in broken if not any(matches(i, k) for k in entry.killers)]
    if verdict.missing:
        verdict.problems.append(f"{len(verdict.missing)} killer(s) did not fail")
    if entry.level == "MUST" and returncode != 1:
        verdict.problems.append(f"exit {returncode}, expected 1 for a MUST fault")
    if returncode not in (0, 1):
        verdict.problems.append(f"exit {returncode}: the run itself went wrong")
    verdict.caught = not verdict.problems
    return verdict


def judge_clean(returncode: int | None, document: dict[str, Any] | None, seconds: float,
                entries: list[Entry] | tuple[Entry, ...]) -> Verdict:
    """Clean: exit 0, no result failed or errored, and every killer of `entries` exists and passed (so that
    its breaking under a fault is the fault's doing)."""
    verdict = Verdict(None, False, seconds, returncode)
    if document is None:
        verdict.problems.append(f"no results (exit {returncode})")
        return verdict
    verdict.collateral = broken_ids(document)
    # A killer that is a check may find nothing to apply to on a clean server (retry_after where no 503
    # comes back): not-applicable is not broken, and the fault then gives it something to apply to.
    passed = {r["id"] for r in _results(document) if r.get("outcome") in CLEAN}
    verdict.missing = sorted({k for e in entries for k in e.killers if not any(matches(i, k) for i in passed)})
    if returncode != 0:
        verdict.problems.append(f"exit {returncode}, expected 0")
    if verdict.collateral:
        verdict.problems.append(f"{len(verdict.collateral)} result(s) failed on the clean server")
    if verdict.missing:
        verdict.problems.append(f"{len(verdict.missing)} killer(s) absent or not passing on the clean server")
    verdict.caught = not verdict.problems
    return verdict
