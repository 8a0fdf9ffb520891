"""`dxconform compare`: the compatibility matrix of several runs, and the diff of exactly two."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .main import EXIT_FAILED, EXIT_OK, UsageError

if TYPE_CHECKING:
    from ..reporting.matrix import CauseGroup

DEFAULT_OUT = "reports/compare.html"
# Root causes printed per kind of change (regressions and new failures; fixes); the page has them all.
SHOWN_CAUSES = 10


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare runs (results.json files): matrix of runs x profiles, areas, "
                                       "routes and results, showing what differs; for two runs the regressions, "
                                       "new failures and fixes, grouped by root cause")
    p.add_argument("results", nargs="+", metavar="RESULTS.json", help="results.json files of `dxconform run`")
    p.add_argument("--out", metavar="FILE.html", default=DEFAULT_OUT, help=f"the matrix page (default {DEFAULT_OUT})")
    p.add_argument("--label", action="append", default=[], metavar="NAME",
                   help="the name of a run's column, in the order of the files (default: from the file name)")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="also write the comparison as JSON")
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when the second of two runs has regressions or new failures")
    p.add_argument("--all-rows", action="store_true",
                   help="show every route and result of the page open (default: only the rows that differ "
                        "between the runs; the others folded)")
    p.set_defaults(func=compare)


def _load(args: argparse.Namespace):
    from ..reporting.matrix import load_runs

    if len(args.label) > len(args.results):
        raise UsageError(f"{len(args.label)} --label for {len(args.results)} file(s)")
    try:
        return load_runs(args.results, args.label)
    except OSError as exc:
        raise UsageError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0][:300]) from None


def _registry_routes() -> dict[str, str]:
    """The 208 route keys of schemas/routes.json and their profiles (read directly: loading the whole spec
    takes seconds)."""
    from ..resources import schemas_dir

    return {entry["route"]: entry["profile"]
            for entry in json.loads((schemas_dir() / "routes.json").read_text())["routes"]}


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _print_groups(title: str, groups: Sequence[CauseGroup], out: Path) -> None:
    """One line per root cause (`12 × rule at $.path — how`), and the first change it explains."""
    print(f"  {title} ({len(groups)}):" if groups else f"  {title}: none")
    for group in groups[:SHOWN_CAUSES]:
        print(f"    {group.summary}")
        kind, change = group.changes[0]
        print(f"        e.g. {kind}: {change.id} ({change.level}, {change.before or 'absent'} -> {change.after})")
    if len(groups) > SHOWN_CAUSES:
        print(f"    ... and {len(groups) - SHOWN_CAUSES} more root cause(s): see {out}")


def compare(args: argparse.Namespace) -> int:
    from ..reporting.matrix import build_matrix, compare_json, diff_runs
    from ..reporting.matrix_page import matrix_page

    runs = _load(args)
    routes = _registry_routes()
    matrix = build_matrix(runs, routes, routes)
    diff = diff_runs(runs[0], runs[1]) if len(runs) == 2 else None
    out = Path(args.out)
    _write(out, matrix_page(matrix, diff, out.parent, all_rows=args.all_rows))
    if args.json_out:
        _write(Path(args.json_out), json.dumps(compare_json(matrix, diff), indent=1) + "\n")
    for run in runs:
        summary = run.document["summary"]
        print(f"{run.label}: {summary['passed']} passed, {summary['failed']} failed, {summary['error']} error, "
              f"{summary['unsupported']} unsupported ({run.path})")
    if len(runs) > 1:
        print(f"differ between the runs: {len(matrix.differing_routes)} of {len(matrix.routes)} routes, "
              f"{len(matrix.differing_results)} of {len(matrix.results)} results")
    if diff is not None:
        before, after = runs[0].label, runs[1].label
        print(f"from {before} to {after}: {len(diff.regressions)} regression(s), "
              f"{len(diff.new_failures)} new failure(s), {len(diff.fixes)} fix(es), {len(diff.other)} other "
              f"change(s)")
        if diff.regressions or diff.new_failures:
            _print_groups(f"regressions and new failures, by root cause in {after}", diff.worse_by_cause, out)
        if diff.fixes:
            _print_groups(f"fixes, by root cause in {before}", diff.fixes_by_cause, out)
    print(f"matrix: {out}")
    if args.fail_on_regression and diff is not None and (diff.regressions or diff.new_failures):
        return EXIT_FAILED
    return EXIT_OK
