"""Comparing runs: the compatibility matrix (runs x profiles, areas, routes) and the diff of two runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .results_json import read_document
from .tallies import (
    AREAS,
    FAILING,
    LEVELS,
    NOT_IMPLEMENTED_VERDICT,
    PASSING,
    Score,
    Tally,
    add_into,
    by_profile_level,
    by_route,
    empty_tally,
    implemented,
    profile_order,
    score,
    tally,
)

COMPARE_FORMAT = "dxconform-compare/1"


@dataclass
class Run:
    """One results.json and the name its column carries."""

    label: str
    path: str
    document: dict[str, Any]

    @property
    def by_id(self) -> dict[str, Mapping[str, Any]]:
        return {r["id"]: r for r in self.document["results"]}


def default_label(path: Path) -> str:
    """`out/a/results.json` -> `a`; `server-b.json` -> `server-b`."""
    return path.parent.name if path.name == "results.json" and path.parent.name else path.stem


def load_runs(paths: Sequence[str | Path], labels: Sequence[str] = ()) -> list[Run]:
    """Read each results.json (ValueError/OSError for one that is not a dxconform-results/2 document);
    labels given are used in order, the others come from the file names, made unique."""
    runs, seen = [], set()
    for index, path in enumerate(map(Path, paths)):
        document = read_document(path)
        label = labels[index] if index < len(labels) else default_label(path)
        unique, number = label, 2
        while unique in seen:
            unique, number = f"{label} ({number})", number + 1
        seen.add(unique)
        runs.append(Run(unique, str(path), document))
    return runs


@dataclass(frozen=True)
class Cell:
    """One run's tally for one row of the matrix, and its score; `scored` False for a profile that run found
    neither claimed nor detected (its verdict is "not implemented", with no percentage)."""

    counts: Tally
    scored: bool = True

    @property
    def score(self) -> Score:
        return score(self.counts)

    @property
    def verdict(self) -> str:
        return self.score.verdict if self.scored else NOT_IMPLEMENTED_VERDICT


@dataclass
class Matrix:
    """Rows (profile/level, area, route) x runs; each row's cells in run order."""

    runs: list[Run]
    headline: dict[str, list[Cell]] = field(default_factory=dict)    # "core MUST" -> cells
    areas: dict[str, list[Cell]] = field(default_factory=dict)
    routes: dict[str, list[Cell]] = field(default_factory=dict)
    exchanges: dict[str, list[int]] = field(default_factory=dict)  # route -> requests sent per run


def build_matrix(runs: Sequence[Run], route_keys: Iterable[str] = ()) -> Matrix:
    """The matrix of `runs`; its route rows are `route_keys` (the route table) if given, else every route
    a result names."""
    matrix = Matrix(list(runs))
    levels = [by_profile_level(run.document["results"]) for run in runs]
    for profile in profile_order(p for table in levels for p in table):
        scored = [implemented(run.document, profile) for run in runs]
        for level in LEVELS:
            cells = [Cell(table.get(profile, {}).get(level) or empty_tally(), ok)
                     for table, ok in zip(levels, scored, strict=True)]
            if any(sum(cell.counts.values()) for cell in cells):
                matrix.headline[f"{profile} {level}"] = cells
    present = {r["area"] for run in runs for r in run.document["results"]}
    for area in [a for a in AREAS if a in present] + sorted(present - set(AREAS)):
        matrix.areas[area] = [Cell(tally(r for r in run.document["results"] if r["area"] == area)) for run in runs]
    keys = list(route_keys)
    per_run = [by_route(run.document["results"], keys, only_listed=bool(keys)) for run in runs]
    for key in dict.fromkeys(k for table in per_run for k in table):
        entries = [table.get(key) for table in per_run]
        matrix.routes[key] = [Cell(add_into(dict(e.cases), e.checks) if e else empty_tally()) for e in entries]
        matrix.exchanges[key] = [e.exchanges if e else 0 for e in entries]
    return matrix


@dataclass(frozen=True)
class Change:
    """One result whose outcome differs between the two runs (None: the result is not in that run)."""

    id: str
    level: str
    area: str
    before: str | None
    after: str | None
    message: str


@dataclass
class RunDiff:
    """What changed from run A to run B, result by result."""

    regressions: list[Change] = field(default_factory=list)    # passed in A, failed in B
    fixes: list[Change] = field(default_factory=list)          # failed in A, passed in B
    new_failures: list[Change] = field(default_factory=list)   # failed in B, not judged (or absent) in A
    gone: list[Change] = field(default_factory=list)           # in A only
    other: list[Change] = field(default_factory=list)          # any other change of outcome

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {name: [change.__dict__ for change in getattr(self, name)]
                for name in ("regressions", "fixes", "new_failures", "gone", "other")}


def diff_runs(before: Run, after: Run) -> RunDiff:
    diff = RunDiff()
    old, new = before.by_id, after.by_id
    for result_id in sorted(set(old) | set(new)):
        a, b = old.get(result_id), new.get(result_id)
        was, now = (a or {}).get("outcome"), (b or {}).get("outcome")
        if was == now:
            continue
        shown = b or a
        change = Change(result_id, shown["level"], shown["area"], was, now, (b or {}).get("message", ""))
        if b is None:
            diff.gone.append(change)
        elif was in PASSING and now in FAILING:
            diff.regressions.append(change)
        elif was in FAILING and now in PASSING:
            diff.fixes.append(change)
        elif now in FAILING and was not in FAILING:
            diff.new_failures.append(change)
        else:
            diff.other.append(change)
    return diff


def compare_json(matrix: Matrix, diff: RunDiff | None) -> dict[str, Any]:
    """The comparison as data (`dxconform compare --json`): runs, matrix verdicts, and the diff of two runs."""
    def rows(table: Mapping[str, list[Cell]]) -> dict[str, list[dict[str, Any]]]:
        return {name: [{"verdict": c.verdict, "score": c.score.percent if c.scored else None, "counts": c.counts}
                       for c in cells]
                for name, cells in table.items()}

    return {"format": COMPARE_FORMAT,
            "runs": [{"label": r.label, "path": r.path, "server": r.document["server"],
                      "suite": r.document["suite"], "summary": r.document["summary"]} for r in matrix.runs],
            "headline": rows(matrix.headline), "areas": rows(matrix.areas), "routes": rows(matrix.routes),
            "diff": diff.to_json() if diff is not None else None}
