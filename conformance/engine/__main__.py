"""Developer tool: `python -m conformance.engine FILES... --server URL` runs case files, one line per case.

It needs a running server: start one with `dxconform serve --fixed-tokens` (tokens alice-token / bob-token).
The engine never starts the reference server itself (it imports nothing of conformance.refserver).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..cases import CaseLoadError, load_suite
from ..checks import CHECKS
from ..model import Outcome
from .config import RunConfig
from .runner import run_case
from .session import RunSession

DEFAULT_TOKEN, DEFAULT_TOKEN2 = "alice-token", "bob-token"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m conformance.engine", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="case files or directories of them")
    parser.add_argument("--server", required=True, help="base URL, e.g. http://127.0.0.1:8124 (dxconform serve)")
    parser.add_argument("--token", default=os.environ.get("DXCONFORM_TOKEN", DEFAULT_TOKEN),
                        help="alice's token (default $DXCONFORM_TOKEN or alice-token)")
    parser.add_argument("--token2", default=os.environ.get("DXCONFORM_TOKEN2", DEFAULT_TOKEN2),
                        help="bob's token (default $DXCONFORM_TOKEN2 or bob-token)")
    parser.add_argument("--project", help="an existing project to work in")
    parser.add_argument("--profile", action="append", help="an optional profile to run (repeatable)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds")
    parser.add_argument("-k", dest="select", help="run only cases whose id contains this text")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each finding and the message in full")
    parser.add_argument("--json", metavar="FILE", help="write the results (and check results) as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        suite = load_suite(args.files, base=Path.cwd(), known_checks=CHECKS)
    except CaseLoadError as problem:
        print(problem, file=sys.stderr)
        return 2
    cases = [c for c in suite.cases if not args.select or args.select in c.uid]
    tokens = {name: token for name, token in (("alice", args.token), ("bob", args.token2)) if token}
    config = RunConfig(server=args.server, tokens=tokens, project=args.project,
                       profiles=frozenset(args.profile) if args.profile else None, timeout=args.timeout)
    results = []
    with RunSession(config, suite) as session:
        for case in cases:
            result = run_case(session, case)
            results.append(result)
            message = result.message if args.verbose else result.message[:300]
            print(f"{result.outcome.value:<11} {result.id}  [{result.duration_ms} ms]"
                  + (f"  {message}" if message else ""), flush=True)
            if args.verbose:
                for finding in result.findings:
                    print(f"    {finding.level.value} {finding.check}: {finding.message}")
    checks = session.ledger.results()
    failed_checks = [r for r in checks if r.outcome == Outcome.FAILED]
    for result in failed_checks:
        print(f"{result.outcome.value:<11} {result.id}  {result.level.value}  {result.message[:300]}")
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome.value] = counts.get(result.outcome.value, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    print(f"{len(results)} cases: {summary}; {len(checks)} check results, {len(failed_checks)} failed; "
          f"run prefix {config.run_prefix}")
    report = session.cleanup_report
    if report is not None and report.failed:
        print(f"cleanup left {len(report.failed)} thing(s): " + "; ".join(report.failed[:5]), file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"results": [r.to_json() for r in results + checks]}, indent=1))
    bad = [r for r in results + checks if r.outcome in (Outcome.FAILED, Outcome.ERROR) and r.level.value == "MUST"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
