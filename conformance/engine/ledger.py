"""The check ledger: protocol-check findings aggregated per (check, route) into check results; mergeable."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from ..checks import check_info
from ..model import Finding, Level, Outcome, Result

LEDGER_FORMAT = "dxconform-ledger/1"
NO_ROUTE = "(no route)"
_STRENGTH = {Level.MUST: 3, Level.SHOULD: 2, Level.MAY: 1}


def check_result_id(check: str, route: str) -> str:
    return f"checks/{check}::{route}"


class CheckLedger:
    """Counts, per (check, route), the exchanges a check looked at and what it found there.

    Plain JSON-able state (`to_json` / `merge`), so pytest-xdist workers can ship theirs to the controller.
    """

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def record(self, route: str | None, checks_run: Iterable[str], findings: Iterable[Finding],
               profile: str = "core", applied: Iterable[str] | None = None) -> None:
        """One exchange on `route` (of `profile`): every check in `checks_run` looked at it, those in `applied`
        (all of them when None) had a rule that applied to it; `findings` are what they found."""
        route = route or NO_ROUTE
        by_check: dict[str, list[Finding]] = {}
        for finding in findings:
            by_check.setdefault(finding.check, []).append(finding)
        checks_run = list(checks_run)
        applied_to = set(checks_run if applied is None else applied)
        with self._lock:
            for name in checks_run:
                entry = self._entry(name, route, profile)
                entry["exchanges"] += 1
                entry["applied"] += 1 if name in applied_to or name in by_check else 0
                for finding in by_check.get(name, []):
                    if finding.internal:
                        entry["crashes"] += 1
                    else:
                        entry["findings"] += 1
                        entry["levels"][finding.level.value] = entry["levels"].get(finding.level.value, 0) + 1
                    if entry["first"] is None:
                        entry["first"] = finding.to_json()

    def _entry(self, check: str, route: str, profile: str) -> dict[str, Any]:
        key = check_result_id(check, route)
        if key not in self._entries:
            self._entries[key] = {"check": check, "route": route, "profile": profile, "exchanges": 0,
                                  "applied": 0, "findings": 0, "crashes": 0, "levels": {}, "first": None}
        return self._entries[key]

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {"format": LEDGER_FORMAT,
                    "entries": [dict(entry, levels=dict(entry["levels"])) for entry in self._entries.values()]}

    def merge(self, data: dict[str, Any]) -> None:
        """Add another ledger's `to_json()` (e.g. an xdist worker's) into this one."""
        if data.get("format") != LEDGER_FORMAT:
            raise ValueError(f"not a {LEDGER_FORMAT} document")
        with self._lock:
            for other in data["entries"]:
                entry = self._entry(other["check"], other["route"], other.get("profile", "core"))
                for count in ("exchanges", "findings", "crashes"):
                    entry[count] += other[count]
                # A ledger written before checks told "not applicable" apart counted every exchange.
                entry["applied"] += other.get("applied", other["exchanges"])
                for level, count in other["levels"].items():
                    entry["levels"][level] = entry["levels"].get(level, 0) + count
                if entry["first"] is None:
                    entry["first"] = other["first"]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckLedger:
        ledger = cls()
        ledger.merge(data)
        return ledger

    def results(self) -> list[Result]:
        """One Result per (check, route) that ran, sorted by id."""
        with self._lock:
            entries = sorted(self._entries.values(), key=lambda e: (e["check"], e["route"]))
        return [_result(entry) for entry in entries]


def _result(entry: dict[str, Any]) -> Result:
    info = check_info(entry["check"])
    level = info.level if info else Level.MUST
    if entry["findings"]:
        # A check may lower a finding's level from the data (e.g. a SHOULD-only status rule): the result
        # gates the exit code at the strongest level actually found.
        found = [Level(name) for name in entry["levels"]]
        level = max(found, key=_STRENGTH.__getitem__)
        first = entry["first"] or {}
        outcome = Outcome.FAILED
        message = (f"{entry['findings']} finding(s) in {entry['exchanges']} exchange(s); first: "
                   f"{first.get('message', '')}")
    elif entry["crashes"]:
        outcome = Outcome.ERROR
        message = f"the check crashed {entry['crashes']} time(s): {(entry['first'] or {}).get('message', '')}"
    elif not entry["applied"]:
        # Nothing to test: e.g. retry_after on a route that never answered 429 or 503. Not a pass.
        outcome = Outcome.NOT_APPLICABLE
        message = f"the rule applied to none of the {entry['exchanges']} exchange(s) on this route"
    else:
        outcome = Outcome.PASSED
        message = f"the rule applied to {entry['applied']} of {entry['exchanges']} exchange(s); all met it"
    findings = [Finding(check=entry["check"], level=level, area=info.area, source=info.source,
                        title=entry["first"].get("title", ""), message=entry["first"].get("message", ""),
                        path=entry["first"].get("path", ""), expected=entry["first"].get("expected"),
                        actual=entry["first"].get("actual"), internal=bool(entry["first"].get("internal")))
                ] if entry["first"] and info else []
    return Result(id=check_result_id(entry["check"], entry["route"]),
                  title=info.title if info else entry["check"], area=info.area if info else "json-output",
                  topic="checks", level=level, profile=entry["profile"], outcome=outcome,
                  source=info.source if info else "", routes=[entry["route"]] if entry["route"] != NO_ROUTE else [],
                  message=message, findings=findings,
                  check_counts={"exchanges": entry["exchanges"], "applied": entry["applied"],
                                "findings": entry["findings"]})
