"""Comparing runs: the compatibility matrix (runs x profiles, areas, routes, results), what differs between the
runs, and the diff of two runs grouped by root cause."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .results_json import KINDS, read_document
from .root_causes import root_causes
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
    profile_statuses,
    score,
    tally,
)

COMPARE_FORMAT = "dxconform-compare/1"
REPORT_NAME = "report.html"
# A change whose result no root cause of its run lists (a hand-edited or merged document): its own group.
NO_CAUSE = ("no root cause recorded", "")


@dataclass
class Run:
    """One results.json, the name its column carries, and the report.html beside it (None: there is none)."""

    label: str
    path: str
    document: dict[str, Any]
    report: str | None = None

    @property
    def by_id(self) -> dict[str, Mapping[str, Any]]:
        return {r["id"]: r for r in self.document["results"]}

    @property
    def causes(self) -> list[dict[str, Any]]:
        """The run's root causes, largest first: the document's own, or (a document from before they were
        recorded) computed from its results."""
        recorded = self.document.get("root_causes")
        if recorded is not None:
            return list(recorded)
        return [cause.to_json() for cause in root_causes(self.document["results"], self.document.get("finished"))]

    @property
    def profiles(self) -> dict[str, str]:
        """{profile: claimed | detected | not-implemented}."""
        return profile_statuses(self.document)

    def report_href(self, page_dir: str | Path) -> str | None:
        """The link to this run's report.html from a page in `page_dir` (relative, / separators, URL-quoted)."""
        if self.report is None:
            return None
        return quote(Path(os.path.relpath(Path(self.report).resolve(), Path(page_dir).resolve())).as_posix())


def default_label(path: Path) -> str:
    """`out/a/results.json` -> `a`; `server-b.json` -> `server-b`."""
    return path.parent.name if path.name == "results.json" and path.parent.name else path.stem


def report_beside(path: Path) -> str | None:
    """The report.html in the same directory as a results.json, if there is one."""
    report = path.parent / REPORT_NAME
    return str(report) if report.is_file() else None


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
        runs.append(Run(unique, str(path), document, report_beside(path)))
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


def verdicts_differ(cells: Sequence[Cell]) -> bool:
    """A row differs when its cells do not all carry the same verdict."""
    return len({cell.verdict for cell in cells}) > 1


def outcomes_differ(outcomes: Sequence[str | None]) -> bool:
    """A result's row differs when its outcomes are not all the same (absent from a run counts as one)."""
    return len(set(outcomes)) > 1


@dataclass
class Matrix:
    """Rows (profile/level, area, route, result) x runs; each row's cells in run order."""

    runs: list[Run]
    headline: dict[str, list[Cell]] = field(default_factory=dict)    # "core MUST" -> cells
    areas: dict[str, list[Cell]] = field(default_factory=dict)
    routes: dict[str, list[Cell]] = field(default_factory=dict)
    exchanges: dict[str, list[int]] = field(default_factory=dict)  # route -> requests sent per run
    results: dict[str, list[str | None]] = field(default_factory=dict)  # result id -> outcome per run (None: absent)
    kinds: dict[str, str] = field(default_factory=dict)               # result id -> case | check | profile

    @property
    def differing_routes(self) -> list[str]:
        return [name for name, cells in self.routes.items() if verdicts_differ(cells)]

    @property
    def differing_results(self) -> list[str]:
        return [rid for rid, outcomes in self.results.items() if outcomes_differ(outcomes)]


def _result_rows(runs: Sequence[Run]) -> tuple[dict[str, list[str | None]], dict[str, str]]:
    """Every result id of any run (profile claims, then cases, then check results, each by id), with its
    outcome in each run."""
    outcomes: dict[str, list[str | None]] = {}
    kinds: dict[str, str] = {}
    for index, run in enumerate(runs):
        for result in run.document["results"]:
            row = outcomes.setdefault(result["id"], [None] * len(runs))
            row[index] = result["outcome"]
            kinds.setdefault(result["id"], result.get("kind", "case"))
    order = {kind: position for position, kind in enumerate(KINDS)}
    ids = sorted(outcomes, key=lambda rid: (order.get(kinds[rid], len(order)), rid))
    return {rid: outcomes[rid] for rid in ids}, {rid: kinds[rid] for rid in ids}


def build_matrix(runs: Sequence[Run], route_keys: Iterable[str] = (),
                 route_profiles: Mapping[str, str] | None = None) -> Matrix:
    """The matrix of `runs`; its route rows are `route_keys` (the route table) if given, else every route
    a result names. `route_profiles` (route -> profile) makes a route's cell "not implemented" in a run that
    found its profile neither claimed nor detected."""
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
    route_profiles = route_profiles or {}
    per_run = [by_route(run.document["results"], keys, only_listed=bool(keys)) for run in runs]
    for key in dict.fromkeys(k for table in per_run for k in table):
        entries = [table.get(key) for table in per_run]
        profile = route_profiles.get(key)
        matrix.routes[key] = [Cell(add_into(dict(e.cases), e.checks) if e else empty_tally(),
                                   profile is None or implemented(run.document, profile))
                              for e, run in zip(entries, runs, strict=True)]
        matrix.exchanges[key] = [e.exchanges if e else 0 for e in entries]
    matrix.results, matrix.kinds = _result_rows(runs)
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


REGRESSION, NEW_FAILURE, FIX = "regression", "new failure", "fix"


@dataclass
class CauseGroup:
    """The changes of one kind (worse, or fixed) that one root cause of one run explains."""

    run: str                        # the label of the run whose root cause it is
    rule: str
    how: str
    line: str                       # the cause's own line (its count: the whole run's)
    cause_count: int                # how many results of that run the cause broke, changed or not
    changes: list[tuple[str, Change]] = field(default_factory=list)   # (regression | new failure | fix, change)

    @property
    def count(self) -> int:
        return len(self.changes)

    @property
    def summary(self) -> str:
        """`12 × timestamp_plausible at $.created — values look like seconds, not milliseconds`: the cause's
        line, counting the changes it explains."""
        rest = self.line.split(" × ", 1)[1] if " × " in self.line else self.rule
        return f"{self.count} × {rest}"

    def of(self, kind: str) -> list[Change]:
        return [change for name, change in self.changes if name == kind]

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run, "rule": self.rule, "how": self.how, "line": self.summary, "count": self.count,
                "count_in_run": self.cause_count, "results": [change.id for _, change in self.changes],
                "regressions": [c.id for c in self.of(REGRESSION)],
                "new_failures": [c.id for c in self.of(NEW_FAILURE)], "fixes": [c.id for c in self.of(FIX)]}


def group_by_cause(changes: Iterable[tuple[str, Change]], run: Run) -> list[CauseGroup]:
    """`changes` grouped by the root cause of `run` that lists their result, most changes first (then in the
    run's order of causes); a change no cause lists lands in a group of its own."""
    causes = run.causes
    cause_of: dict[str, int] = {}
    for index, cause in enumerate(causes):
        for result_id in cause.get("results") or ():
            cause_of.setdefault(result_id, index)
    groups: dict[int, CauseGroup] = {}
    for kind, change in changes:
        index = cause_of.get(change.id, len(causes))
        if index not in groups:
            if index < len(causes):
                cause = causes[index]
                groups[index] = CauseGroup(run.label, cause.get("rule", ""), cause.get("how", ""),
                                           cause.get("line", ""), int(cause.get("count", 0)))
            else:
                rule, how = NO_CAUSE
                groups[index] = CauseGroup(run.label, rule, how, f"0 × {rule}", 0)
        groups[index].changes.append((kind, change))
    return [groups[index] for index in sorted(groups, key=lambda i: (-groups[i].count, i))]


@dataclass
class RunDiff:
    """What changed from run A to run B, result by result, and the same grouped by root cause: what got worse
    by B's causes, what got fixed by A's."""

    regressions: list[Change] = field(default_factory=list)    # passed in A, failed in B
    fixes: list[Change] = field(default_factory=list)          # failed in A, passed in B
    new_failures: list[Change] = field(default_factory=list)   # failed in B, not judged (or absent) in A
    gone: list[Change] = field(default_factory=list)           # in A only
    other: list[Change] = field(default_factory=list)          # any other change of outcome
    worse_by_cause: list[CauseGroup] = field(default_factory=list)   # regressions + new failures, by B's cause
    fixes_by_cause: list[CauseGroup] = field(default_factory=list)   # fixes, by A's cause

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: [change.__dict__ for change in getattr(self, name)]
                                for name in ("regressions", "fixes", "new_failures", "gone", "other")}
        data["worse_by_cause"] = [group.to_json() for group in self.worse_by_cause]
        data["fixes_by_cause"] = [group.to_json() for group in self.fixes_by_cause]
        return data


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
    worse = [(REGRESSION, c) for c in diff.regressions] + [(NEW_FAILURE, c) for c in diff.new_failures]
    diff.worse_by_cause = group_by_cause(sorted(worse, key=lambda item: item[1].id), after)
    diff.fixes_by_cause = group_by_cause(((FIX, c) for c in diff.fixes), before)
    return diff


def compare_json(matrix: Matrix, diff: RunDiff | None) -> dict[str, Any]:
    """The comparison as data (`dxconform compare --json`): runs, matrix verdicts, what differs, and the diff
    of two runs."""
    def rows(table: Mapping[str, list[Cell]]) -> dict[str, list[dict[str, Any]]]:
        return {name: [{"verdict": c.verdict, "score": c.score.percent if c.scored else None, "counts": c.counts}
                       for c in cells]
                for name, cells in table.items()}

    return {"format": COMPARE_FORMAT,
            "runs": [{"label": r.label, "path": r.path, "report": r.report, "server": r.document["server"],
                      "suite": r.document["suite"], "summary": r.document["summary"], "profiles": r.profiles}
                     for r in matrix.runs],
            "headline": rows(matrix.headline), "areas": rows(matrix.areas), "routes": rows(matrix.routes),
            "differing": {"routes": matrix.differing_routes,
                          "results": {rid: matrix.results[rid] for rid in matrix.differing_results}},
            "diff": diff.to_json() if diff is not None else None}
