"""Every benchmark of benchmarks/, one after the other, each in its own child process (not a test).

Prints each script's own output (its machine line, figures and ratio) and, at the end, one line per
benchmark: its command, its exit code (0: its target met) and its wall time. `--quick` runs the suite-based
benchmarks on a subset of the cases (-k records) and the others with short time bounds: a smoke run of the
scripts, not figures for docs/performance.md.

    python benchmarks/run_all.py [--quick | --record] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name -> (arguments of a full run, arguments of a quick run)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "validation": ([], ["--seconds", "0.5"]),
    "refserver": ([], ["--seconds", "1", "--upload-mib", "20", "--clients", "1"]),
    "overhead": ([], ["-k", "records", "--repeat", "1"]),
    "parallel": ([], ["-k", "records"]),
    "fuzz": ([], ["--examples", "2", "--repeat", "1"]),
    "scale": ([], ["-k", "records", "--factors", "1", "2", "--base-runs", "1", "--fuzz-examples", "1",
                   "--fuzz-factors", "1", "2"]),
    "proxy": ([], ["--requests", "2000", "--seconds", "30"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke runs (see above)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="only these benchmarks")
    parser.add_argument("--record", action="store_true",
                        help="each benchmark writes its figures into docs/performance-figures.json (then run "
                             "`python -m conformance.docgen`); not with --quick")
    args = parser.parse_args(argv)
    if args.record and args.quick:
        parser.error("--record takes figures for docs/performance.md: a --quick run's are not")
    rows = []
    for name, (full, quick) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        command = [sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else full),
                   *(["--record"] if args.record else [])]
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        code = subprocess.run(command).returncode
        rows.append((name, code, time.perf_counter() - started))
    print("== summary (exit 0: target met; 1: not met, see the figures above)")
    for name, code, seconds in rows:
        print(f"{name:12} exit {code}  {seconds:7.1f} s")
    return 0 if all(code in (0, 1) for _, code, _ in rows) else 2


if __name__ == "__main__":
    sys.exit(main())
