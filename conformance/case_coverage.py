"""How many cases cover each route (`dxconform routes`, docs/routes.md), from the case files, without running them.

The files are read by the case loader, so the count sees the cases a run sees (defaults applied, `for_each`
expanded into one case per route). A case covers the route keys of its `routes:` if it lists them, else the
routes its steps call (not `finally`), each resolved by spec.routes.TemplateResolver; a template that stays
ambiguous is not counted. This module joins cases/ and spec/, so it lives beside them: spec/ may not import
cases/ (cases/ imports spec/).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .cases import CaseLoadError, CaseSuite, load_suite
from .cases.loader import case_files
from .model import Area
from .spec.routes import TemplateResolver

# Cases of this area only probe a route's URL (an absent ID, an empty input): against a server without the
# route they are unsupported, so they show the route is reachable, not that its behaviour is tested.
PROBE_AREA = Area.URL_FORMS


@dataclass
class CaseCounts:
    """route key -> number of cases that test it (`per_route`) and of URL-form cases that only probe it
    (`probes`); the case files that do not load (left out of both) are listed apart."""

    per_route: Counter = field(default_factory=Counter)
    probes: Counter = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)


def count_cases(cases_root: Path | None, resolve: TemplateResolver) -> CaseCounts:
    """Count, per route key, the cases of the case files under `cases_root` that cover it."""
    counts = CaseCounts()
    if cases_root is None or not cases_root.is_dir():
        return counts
    suite, counts.unreadable = load_what_loads(cases_root)
    for case in suite.cases:
        target = counts.probes if case.area is PROBE_AREA else counts.per_route
        target.update({key for key in map(resolve, case.routes) if key})
    return counts


def load_what_loads(root: Path) -> tuple[CaseSuite, list[str]]:
    """The suite of the case files under `root`, less the files that do not load (and those that need one of
    them, e.g. for a fixture), named relative to `root`."""
    files = case_files([root])
    labels = {path: path.resolve().relative_to(root.resolve()).as_posix() for path in files}
    left_out: set[str] = set()
    while True:
        try:
            return load_suite([p for p in files if labels[p] not in left_out], base=root), sorted(left_out)
        except CaseLoadError as problem:
            broken = {error.file for error in problem.errors} - left_out
            if not broken:  # nothing more to leave out: count nothing rather than guess
                return CaseSuite(), sorted(labels.values())
            left_out |= broken
