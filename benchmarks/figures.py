"""What a benchmark measured, as data: one entry per benchmark in docs/performance-figures.json (`--record`),
which the doc generator renders into docs/performance.md; no figure there is typed in by hand.

An entry (one benchmark, one run):

    {"benchmark": "fuzz", "title": "Fuzzing", "recorded": "2026-12-06", "machine": "Linux ..., 2 CPUs, ...",
     "command": "python benchmarks/fuzz.py --examples 8",
     "target": ">= 3x the examples/s of the schemathesis CLI", "measured": "3.4x (250 vs 73 examples/s)",
     "met": true,                       # null: figures only, no target
     "tables": [{"caption": "...", "columns": ["", "ours", "st run"], "rows": [["examples/s", 250.1, 73.2]]}],
     "notes": ["..."],                  # optional sentences printed under the tables
     "raw": {...}}                      # every raw figure both sides measured, as the script printed them

`measured` is written by the script from its own figures; the tables' cells are numbers or strings.
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from machine import machine

# The doc generator reads what this writes: the file's path and format are the doc generator's.
from conformance.docgen.performance import FIGURES_PATH as FIGURES_FILE
from conformance.docgen.performance import FORMAT

FIGURES_PATH = Path(__file__).resolve().parents[1] / FIGURES_FILE


def table(caption: str, columns: list[str], rows: list[list[Any]]) -> dict:
    return {"caption": caption, "columns": columns, "rows": rows}


def entry(benchmark: str, title: str, *, target: str | None, measured: str, met: bool | None,
          tables: list[dict], raw: dict, notes: list[str] | None = None, argv: list[str] | None = None) -> dict:
    """One benchmark's entry, stamped with today's date, the machine and the command that made it."""
    args = without_record(sys.argv[1:] if argv is None else argv)
    return {"benchmark": benchmark, "title": title, "recorded": datetime.date.today().isoformat(),
            "machine": machine(), "command": shlex.join(["python", f"benchmarks/{benchmark}.py", *args]),
            "target": target, "measured": measured, "met": met, "tables": tables, "notes": notes or [], "raw": raw}


def without_record(args: list[str]) -> list[str]:
    """The command's arguments without `--record [FILE]`: where the figures went is not how they were made."""
    kept, skip = [], False
    for arg in args:
        if skip and not arg.startswith("-"):
            skip = False
            continue
        skip = arg == "--record"
        if not skip and not arg.startswith("--record="):
            kept.append(arg)
    return kept


def record(item: dict, path: Path = FIGURES_PATH) -> Path:
    """Put `item` into the figures file under its benchmark's name (the others stay), written atomically."""
    data = {"format": FORMAT, "benchmarks": {}}
    if path.exists():
        data = json.loads(path.read_text())
    data.setdefault("benchmarks", {})[item["benchmark"]] = item
    data["benchmarks"] = dict(sorted(data["benchmarks"].items()))
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".figures-")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.replace(temporary, path)
    return path


def add_record_option(parser) -> None:
    parser.add_argument("--record", nargs="?", const=str(FIGURES_PATH), metavar="FILE",
                        help="write the figures into FILE (default docs/performance-figures.json) for the "
                             "doc generator")


def finish(item: dict, record_to: str | None) -> None:
    """Print where the figures went when `--record` was given."""
    if record_to:
        print(f"recorded: {record(item, Path(record_to))}")
