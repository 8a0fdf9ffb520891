"""Counting results by area and level, and the short terminal summary printed at the end of a run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..model import Area, Level, Outcome

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


def terminal_lines(case_results: list[Mapping[str, Any]], check_results: list[Mapping[str, Any]],
                   files: Mapping[str, str]) -> list[str]:
    """What the run prints after pytest's own output: cases by area, checks in one line, the output files."""
    lines = format_table("cases by area", count_by(case_results, "area")) if case_results else ["no cases ran"]
    if check_results:
        failed = [r for r in check_results if r["outcome"] != Outcome.PASSED.value]
        checks = sorted({r["id"].split("::", 1)[0] for r in check_results})
        lines.append(f"protocol checks: {len(checks)} checks on {len(check_results)} (check, route) pairs, "
                     f"{len(failed)} not passed")
    for label, path in files.items():
        if path:
            lines.append(f"{label}: {path}")
    return lines
