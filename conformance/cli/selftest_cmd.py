"""`dxconform selftest`: run the catalogue of broken servers and print the detection score."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from .main import EXIT_FAILED, EXIT_OK, UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("selftest", help="break the embedded server one rule at a time and require the suite "
                       "to catch each break (detection score)")
    p.add_argument("--fault", action="append", default=[], metavar="NAME",
                   help="only this fault (repeatable; default: the whole catalogue)")
    p.add_argument("--quick", action="store_true", help="only the representative set (one or two faults per area)")
    p.add_argument("-n", dest="workers", type=int, default=2, metavar="N", help="runs at a time (default 2)")
    p.add_argument("--whole", action="store_true",
                   help="run the whole suite for each fault instead of its -k selection (slow; measures "
                   "collateral over every case)")
    p.add_argument("--no-clean", action="store_true", help="skip the clean run")
    p.add_argument("--out", metavar="DIR", help="keep each run's output under DIR (and DIR/selftest.json)")
    p.add_argument("--record", metavar="FILE",
                   help="write the measured score of the whole catalogue (with the clean run) to FILE as JSON, for "
                   "the docs (python -m conformance.docgen renders docs/selftest-score.json into README and "
                   "docs/selftest.md); refuses --fault, --quick, --no-clean")
    p.add_argument("--list", action="store_true", help="print the catalogue (fault, area, rule, killers) and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="list the collateral results of each fault")
    p.add_argument("--cases", metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=selftest)


def _entries(args: argparse.Namespace):
    from ..selftest import CATALOGUE, by_name, quick_set

    known = by_name()
    unknown = sorted(set(args.fault) - set(known))
    if unknown:
        raise UsageError(f"unknown fault {unknown[0]!r} (dxconform selftest --list shows the catalogue)")
    chosen = quick_set() if args.quick else CATALOGUE
    if args.fault:
        chosen = tuple(e for e in chosen if e.fault in set(args.fault))
    if not chosen:
        raise UsageError("no fault selected")
    return list(chosen)


def _refuse_partial_record(args: argparse.Namespace) -> None:
    """A recorded score is the whole catalogue's, with the clean run: a subset would pass for the score."""
    partial = [flag for flag, given in (("--fault", bool(args.fault)), ("--quick", args.quick),
                                        ("--no-clean", args.no_clean), ("--cases", bool(args.cases))) if given]
    if args.record and partial:
        raise UsageError(f"--record measures the whole catalogue with its clean run: drop {', '.join(partial)}")


def _write_record(result, args: argparse.Namespace) -> None:
    from ..selftest.record import record_of, write_record

    path = Path(args.record)
    write_record(record_of(result, workers=args.workers, whole=args.whole), path)
    print(f"recorded: {path} (python -m conformance.docgen puts it into README.md and docs/selftest.md)")


def _print_catalogue(entries) -> None:
    for e in entries:
        mark = " [quick]" if e.quick else ""
        print(f"{e.fault}  ({e.area}, {e.level}){mark}\n  rule: {e.rule}\n  -k {e.keyword}")
        for killer in e.killers:
            print(f"  killer: {killer}")


def _line(verdict, verbose: bool) -> str:
    if verdict.fault is None:
        state = "CLEAN" if verdict.caught else "DIRTY"
        text = f"{state:8} (clean server)  {len(verdict.collateral)} failure(s)  {verdict.seconds:5.1f}s"
        extra = verdict.problems + [f"failed: {i}" for i in verdict.collateral[:20]] + \
            [f"killer not passing: {k}" for k in verdict.missing]
    else:
        state = "caught" if verdict.caught else "ESCAPED"
        text = (f"{state:8} {verdict.fault:36} killers {len(verdict.found)}/{len(verdict.found) + len(verdict.missing)}"
                f"  collateral {len(verdict.collateral):3}  {verdict.seconds:5.1f}s")
        extra = verdict.problems + [f"missing killer: {k}" for k in verdict.missing]
        if verbose:
            extra += [f"collateral: {i}" for i in verdict.collateral]
    return "\n".join([text, *(f"           {x}" for x in extra)])


def selftest(args: argparse.Namespace) -> int:
    entries = _entries(args)
    _refuse_partial_record(args)
    if args.list:
        _print_catalogue(entries)
        return EXIT_OK
    if args.workers < 1:
        raise UsageError(f"-n must be at least 1, got {args.workers}")
    from ..selftest.sweep import sweep

    lock = threading.Lock()

    def show(verdict) -> None:
        with lock:
            print(_line(verdict, args.verbose), flush=True)

    print(f"dxconform selftest: {len(entries)} fault(s), {args.workers} run(s) at a time"
          f"{', whole suite per fault' if args.whole else ''}", flush=True)
    result = sweep(entries, workers=args.workers, whole=args.whole, clean=not args.no_clean,
                   out_root=Path(args.out).resolve() if args.out else None, cases=args.cases, on_verdict=show)
    clean = "skipped" if result.clean is None else ("0 failures" if result.clean.caught else "NOT CLEAN")
    print(f"score: {result.caught}/{len(result.verdicts)} faults caught; clean server: {clean}")
    if args.record:
        _write_record(result, args)
    if result.escaped:
        print("escaped: " + ", ".join(v.fault for v in result.escaped), file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FAILED
