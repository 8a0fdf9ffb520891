"""Counting results by area and level, and the short terminal summary printed at the end of a run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..model import Area, Level, Outcome
from .report_page import profile_evidence
from .tallies import NOT_IMPLEMENTED, by_profile_level, profile_statuses, score

# The columns always shown; the other outcomes appear only when some result has them.
MAIN_COLUMNS = (Outcome.PASSED.value, Outcome.FAILED.value, Outcome.ERROR.value, Outcome.UNSUPPORTED.value)


def count_by(results: Iterable[Mapping[str, Any]], key: str) -> dict[str, dict[str, int]]:
    """{value of `key` (area, level ...): {outcome: count}}, in a stable order (areas and levels as declared)."""
    order = [a.value for a in Area] if key == "area" else [lv.value for lv in Level] if key == "level" else []
    table: dict[str, dict[str, int]] = {}
    for result in results:
        row = table.setdefault(result[key], dict.fromkeys((o.value for o in Outcome), 0))
        row[result["outcome"]] += 1
    known = [name for name in order if name in table]
    return {name: table[name] for name in known + sorted(set(table) - set(known))}


def columns_for(table: Mapping[str, Mapping[str, int]]) -> list[str]:
    extra = [o.value for o in Outcome if o.value not in MAIN_COLUMNS and any(row[o.value] for row in table.values())]
    return list(MAIN_COLUMNS) + extra


def format_table(title: str, table: Mapping[str, Mapping[str, int]]) -> list[str]:
    """A plain-text table: one row per area (or level), one column per outcome."""
    columns = columns_for(table)
    width = max([len(title)] + [len(name) for name in table]) + 2
    lines = [title.ljust(width) + "".join(c.rjust(13) for c in columns)]
    for name, row in table.items():
        lines.append(("  " + name).ljust(width) + "".join(str(row[c]).rjust(13) for c in columns))
    return lines


def outcome_counts(summary: Mapping[str, int]) -> str:
    """`860 passed, 146 unsupported`: the outcomes with a count, in the declared order ('none' when empty)."""
    parts = [f"{summary[o.value]} {o.value}" for o in Outcome if summary.get(o.value)]
    return ", ".join(parts) or "none"


def profile_lines(document: Mapping[str, Any]) -> list[str]:
    """One line per profile: its status, and for those with a score, the score of its MUST results."""
    table = by_profile_level(document["results"])
    lines = ["profiles:"]
    for profile, status in profile_statuses(document).items():
        if status == NOT_IMPLEMENTED:
            verdict = "not implemented (no score)"
        else:
            must = score((table.get(profile) or {}).get(Level.MUST.value) or {})
            verdict = (f"{status}, MUST {must.verdict} {must.percent} ({must.passing}/{must.judged})"
                       if must.judged else f"{status}, no MUST result judged")
        evidence = profile_evidence(document, profile)
        lines.append(f"  {profile:<15} {verdict}" + (f" - {evidence[:150]}" if evidence else ""))
    return lines


def terminal_lines(document: Mapping[str, Any], files: Mapping[str, str]) -> list[str]:
    """What the run prints after pytest's own output: cases by area, profiles, and the outcome totals by kind
    of result (the same numbers as results.json's `summary_by_kind`, report.html and junit.xml)."""
    results = document["results"]
    cases = [r for r in results if r.get("kind", "case") == "case"]
    lines = format_table("cases by area", count_by(cases, "area")) if cases else ["no cases ran"]
    if document.get("profiles"):
        lines += profile_lines(document)
    by_kind = document.get("summary_by_kind") or {}
    for kind, label in (("case", "cases"), ("check", "check results (one per check and route)"),
                        ("profile", "profile claims")):
        counts = by_kind.get(kind) or {}
        if sum(counts.values()):
            lines.append(f"{label}: {sum(counts.values())}: {outcome_counts(counts)}")
    lines.append(f"all results: {len(results)}: {outcome_counts(document['summary'])}")
    for label, path in files.items():
        if path:
            lines.append(f"{label}: {path}")
    return lines
