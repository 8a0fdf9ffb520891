"""`python -m conformance.docgen [--check] [--root DIR]`: write the generated documentation, or check it is current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import DEFAULT_ROOT, RegionError, stale_pages, write_pages
from .selftest_score import RecordError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.docgen",
                                     description="regenerate the pages of docs/ and the regions of README.md that "
                                     "come from the code and from recorded runs")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and name the pages that regenerating would change")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT,
                        help=f"the repository root holding README.md and docs/ (default {DEFAULT_ROOT})")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_pages(args.root)
            for path in stale:
                print(f"out of date: {path} (run python -m conformance.docgen)", file=sys.stderr)
            return 1 if stale else 0
        for path in write_pages(args.root):
            print(f"wrote {path}")
    except (RegionError, RecordError) as exc:
        print(f"docgen: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
