"""`dxconform compare`: the compatibility matrix of several runs, and the diff of exactly two."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .main import EXIT_FAILED, EXIT_OK, UsageError

DEFAULT_OUT = "reports/compare.html"
SHOWN_CHANGES = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare runs (results.json files): matrix of servers x areas and routes, "
                                       "and for two runs the regressions, fixes and new failures")
    p.add_argument("results", nargs="+", metavar="RESULTS.json", help="results.json files of `dxconform run`")
    p.add_argument("--out", metavar="FILE.html", default=DEFAULT_OUT, help=f"the matrix page (default {DEFAULT_OUT})")
    p.add_argument("--label", action="append", default=[], metavar="NAME",
                   help="the name of a run's column, in the order of the files (default: from the file name)")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="also write the comparison as JSON")
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when the second of two runs has regressions or new failures")
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


def _registry_routes() -> list[str]:
    """The 208 route keys of schemas/routes.json (read directly: loading the whole spec takes seconds)."""
    from ..resources import schemas_dir

    return [entry["route"] for entry in json.loads((schemas_dir() / "routes.json").read_text())["routes"]]


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def compare(args: argparse.Namespace) -> int:
    from ..reporting.matrix import build_matrix, compare_json, diff_runs
    from ..reporting.matrix_page import matrix_page

    runs = _load(args)
    matrix = build_matrix(runs, _registry_routes())
    diff = diff_runs(runs[0], runs[1]) if len(runs) == 2 else None
    out = Path(args.out)
    _write(out, matrix_page(matrix, diff))
    if args.json_out:
        _write(Path(args.json_out), json.dumps(compare_json(matrix, diff), indent=1) + "\n")
    for run in runs:
        summary = run.document["summary"]
        print(f"{run.label}: {summary['passed']} passed, {summary['failed']} failed, {summary['error']} error, "
              f"{summary['unsupported']} unsupported ({run.path})")
    if diff is not None:
        print(f"from {runs[0].label} to {runs[1].label}: {len(diff.regressions)} regression(s), "
              f"{len(diff.new_failures)} new failure(s), {len(diff.fixes)} fix(es), {len(diff.other)} other change(s)")
        for name, changes in (("regression", diff.regressions), ("new failure", diff.new_failures),
                              ("fix", diff.fixes)):
            for change in changes[:SHOWN_CHANGES]:
                print(f"  {name}: {change.id} ({change.level}, {change.before or 'absent'} -> {change.after})")
            if len(changes) > SHOWN_CHANGES:
                print(f"  ... and {len(changes) - SHOWN_CHANGES} more {name}(s): see {out}")
    print(f"matrix: {out}")
    if args.fail_on_regression and diff is not None and (diff.regressions or diff.new_failures):
        return EXIT_FAILED
    return EXIT_OK
