"""The gate's lines of the terminal summary: flaky, xfailed and xpassed results, and unused expectations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Outcome

SHOWN_IDS = 10


def _ids(results: Sequence[Mapping[str, Any]], outcome: Outcome) -> list[str]:
    return [r["id"] for r in results if r.get("outcome") == outcome.value]


def _listed(ids: list[str]) -> list[str]:
    lines = [f"    {result_id}" for result_id in ids[:SHOWN_IDS]]
    if len(ids) > SHOWN_IDS:
        lines.append(f"    ... {len(ids) - SHOWN_IDS} more in results.json")
    return lines


def gate_lines(results: Sequence[Mapping[str, Any]], expectations: Mapping[str, Any],
               options: Any) -> list[tuple[str, str | None]]:
    """(line, colour or None): shown apart from the area table so a flake or a stale expectation is seen."""
    lines: list[tuple[str, str | None]] = []
    flaky = _ids(results, Outcome.FLAKY)
    if flaky:
        lines.append((f"flaky: {len(flaky)} result(s) failed, then passed on a rerun "
                      f"(up to {options.reruns} rerun(s)):", "yellow"))
        lines.extend((line, None) for line in _listed(flaky))
    if options.expectations is None:
        return lines
    xfailed, xpassed = _ids(results, Outcome.XFAILED), _ids(results, Outcome.XPASSED)
    lines.append((f"expectations {options.expectations}: {len(xfailed)} known failure(s) xfailed, "
                  f"{len(xpassed)} xpassed", None))
    if xpassed:
        lines.append(("xpassed: listed as failing but passed (remove them from the expectations file?):",
                      "yellow"))
        lines.extend((line, None) for line in _listed(xpassed))
    seen = {r["id"] for r in results}
    unused = [result_id for result_id in expectations if result_id not in seen]
    if unused:
        lines.append((f"{len(unused)} expectation(s) match no result of this run (not selected, or renamed)",
                      None))
    return lines
