"""Counting results by area and level, and the short terminal summary printed at the end of a run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..model import Area, Level, Outcome
from .first_screen import gate_verdict, not_tested_lines
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


ROOT_CAUSES_SHOWN = 10


def root_cause_lines(document: Mapping[str, Any], shown: int = ROOT_CAUSES_SHOWN) -> list[str]:
    """`root causes (3, largest first):` then one line each, with one representative result to look at."""
    causes = document.get("root_causes") or []
    if not causes:
        return []
    lines = [f"root causes ({len(causes)}, largest first):"]
    for cause in causes[:shown]:
        lines.append(f"  {cause['line']}")
        lines.append(f"      e.g. {cause['representative']}")
    if len(causes) > shown:
        lines.append(f"  ... {len(causes) - shown} more in results.json (root_causes)")
    return lines


def terminal_lines(document: Mapping[str, Any], files: Mapping[str, str]) -> list[str]:
    """What the run prints after pytest's own output: cases by area, profiles, and the outcome totals by kind
    of result (the same numbers as results.json's `summary_by_kind`, report.html and junit.xml)."""
    results = document["results"]
    cases = [r for r in results if r.get("kind", "case") == "case"]
    lines = format_table("cases by area", count_by(cases, "area")) if cases else ["no cases ran"]
    if document.get("profiles"):
        lines += profile_lines(document)
    lines += root_cause_lines(document)
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


QUIET_ROOT_CAUSES = 8


def quiet_lines(document: Mapping[str, Any], files: Mapping[str, str]) -> list[str]:
    """The whole account of a run for a CI log, in at most about 35 lines: verdict, profiles, root causes,
    what was not tested, the totals, the output files."""
    word, line = gate_verdict(document)
    seconds = max(0, int(document["finished"]) - int(document["started"])) / 1000
    lines = [f"dxconform: {word.upper()}: {line} ({document['server']['url']}, {len(document['results'])} "
             f"results in {seconds:.0f} s)"]
    statuses = profile_statuses(document)
    table = by_profile_level(document["results"])
    scored = []
    for profile, status in statuses.items():
        if status != NOT_IMPLEMENTED:
            must = score((table.get(profile) or {}).get(Level.MUST.value) or {})
            scored.append(f"{profile} {status} (MUST {must.percent})")
    missing = [profile for profile, status in statuses.items() if status == NOT_IMPLEMENTED]
    lines.append("profiles: " + "; ".join(scored) + (f"; not implemented: {', '.join(missing)}" if missing else ""))
    lines += root_cause_lines(document, QUIET_ROOT_CAUSES)
    lines += [f"not tested: {item}" for item in not_tested_lines(document)]
    by_kind = document.get("summary_by_kind") or {}
    labels = {"case": "cases", "check": "check results", "profile": "profile claims"}
    lines += [f"{labels.get(kind, kind)}: {outcome_counts(counts)}" for kind, counts in by_kind.items()
              if sum(counts.values())]
    lines += [f"{label}: {path}" for label, path in files.items() if path]
    return lines
