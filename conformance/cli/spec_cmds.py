"""`dxconform routes` (the route table and its coverage) and `dxconform openapi` (the core profile as OpenAPI)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from .main import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("routes", help="the route table: URL form, profile, schemas and case coverage")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    p.set_defaults(func=run_routes)
    p = sub.add_parser("openapi", help="the OpenAPI 3.1 document of the core profile, from schemas/")
    p.add_argument("--out", metavar="FILE", help="write the document to FILE (default: standard output)")
    p.set_defaults(func=run_openapi)


def _spec():
    from ..spec import SpecError, load_spec

    try:
        return load_spec()
    except (SpecError, FileNotFoundError) as exc:
        raise UsageError(f"cannot load the spec: {exc}") from None


def _case_counts(spec):
    from ..case_coverage import count_cases
    from ..resources import cases_dir
    from ..spec.routes import TemplateResolver

    try:
        root: Path | None = cases_dir()
    except FileNotFoundError:
        root = None  # an installation without cases/: nothing covers anything yet
    return count_cases(root, TemplateResolver(spec.routes))


def route_rows(spec, counts) -> list[dict[str, Any]]:
    return [{**route.as_json(), "cases": counts.per_route.get(route.route, 0),
             "probes": counts.probes.get(route.route, 0)} for route in spec.routes]


def run_routes(args: argparse.Namespace) -> int:
    spec = _spec()
    counts = _case_counts(spec)
    rows = route_rows(spec, counts)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_table(rows))
    for name in counts.unreadable:
        print(f"dxconform: warning: case file {name} does not load; its cases are not counted", file=sys.stderr)
    return 0


def render_table(rows: list[dict[str, Any]]) -> str:
    """An aligned table, one route a line, and a footer of counts per profile."""
    yes_no = {True: "yes", False: "-"}
    header = ("ROUTE", "URL FORM", "KIND", "PROFILE", "INPUT", "OUTPUT", "CASES", "PROBES")
    lines = [header] + [
        (r["route"], r["url_form"], r["subject_kind"], r["profile"], yes_no[r["has_input_schema"]],
         yes_no[r["has_output_schema"]], str(r["cases"]), str(r["probes"]))
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    out.append("")
    routes, schemas, covered, probed = Counter(), Counter(), Counter(), Counter()
    for r in rows:
        routes[r["profile"]] += 1
        schemas[r["profile"]] += r["has_input_schema"] and r["has_output_schema"]
        covered[r["profile"]] += r["cases"] > 0
        probed[r["profile"]] += r["cases"] == 0 and r["probes"] > 0
    name_width = max(len(p) for p in routes)
    for profile, n in sorted(routes.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"{profile.ljust(name_width)}  {n:3d} routes, {schemas[profile]:3d} with schemas, "
                   f"{covered[profile]:3d} covered by cases, {probed[profile]:3d} only probed (URL-form cases)")
    out.append(f"{'total'.ljust(name_width)}  {len(rows):3d} routes, {sum(schemas.values()):3d} with schemas, "
               f"{sum(covered.values()):3d} covered by cases, {sum(probed.values()):3d} only probed (URL-form "
               "cases)")
    out.append("CASES: cases that test the route's behaviour; PROBES: URL-form cases (absent IDs, empty input) "
               "that only show the route is there.")
    return "\n".join(out) + "\n"


def run_openapi(args: argparse.Namespace) -> int:
    from ..spec.openapi import build_openapi, exportable

    spec = _spec()
    document = build_openapi(spec)
    text = json.dumps(document, indent=2) + "\n"
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    missing = [r.route for r in spec.profile_routes("core") if not exportable(r)]
    if missing:
        print(f"dxconform: warning: {len(missing)} core routes have no input/output schemas and are left out: "
              + ", ".join(missing), file=sys.stderr)
    return 0
