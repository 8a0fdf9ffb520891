"""The generated regions of docs/performance.md: the benchmarks' recorded figures (docs/performance-figures.json,
written by `python benchmarks/run_all.py --record`), a summary table and each benchmark's own tables."""

from __future__ import annotations

import json
from pathlib import Path

from .markdown import code, table

FIGURES_PATH = "docs/performance-figures.json"
FORMAT = "dxconform-benchmarks/1"
RECORD_COMMAND = "python benchmarks/run_all.py --record"
REGENERATE = "`python -m conformance.docgen`"
# The benchmarks in the order of the page; each has its region `performance-<name>`.
BENCHMARKS = ("overhead", "validation", "fuzz", "parallel", "scale", "proxy", "refserver")


class FiguresError(Exception):
    """The figures file is not one the doc generator can render."""


def read_figures(root: Path) -> dict[str, dict]:
    """{benchmark: entry} as recorded; {} when nothing is recorded yet."""
    path = root / FIGURES_PATH
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise FiguresError(f"{FIGURES_PATH}: not JSON ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("benchmarks"), dict):
        raise FiguresError(f"{FIGURES_PATH}: expected {{\"format\": \"{FORMAT}\", \"benchmarks\": {{...}}}}")
    unknown = sorted(set(data["benchmarks"]) - set(BENCHMARKS))
    if unknown:
        raise FiguresError(f"{FIGURES_PATH}: benchmarks the page has no place for: {', '.join(unknown)}")
    return data["benchmarks"]


def number(value: object) -> str:
    """A figure as a table cell: thousands separated; floats with as many decimals as their size needs."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    size = abs(value)
    decimals = 0 if size >= 1000 else 1 if size >= 100 else 2 if size >= 1 else 3
    return f"{value:,.{decimals}f}"


def met_word(met: bool | None) -> str:
    return "figures only" if met is None else "yes" if met else "**no**"


def render_summary(root: Path) -> str:
    figures = read_figures(root)
    if not figures:
        return f"No figures recorded yet ({FIGURES_PATH} is missing): run `{RECORD_COMMAND}`, then {REGENERATE}."
    rows = []
    for index, name in enumerate(BENCHMARKS, start=1):
        item = figures.get(name)
        if item is None:
            rows.append([index, code(name), "", f"not recorded (`python benchmarks/{name}.py --record`)", ""])
            continue
        rows.append([index, item["title"], item.get("target") or "(figures)", item["measured"], met_word(item["met"])])
    dates = sorted({item["recorded"] for item in figures.values()})
    machines = sorted({item["machine"] for item in figures.values()})
    return (table(["#", "benchmark", "target", "measured", "met"], rows) + "\n"
            f"Recorded {' to '.join(dict.fromkeys([dates[0], dates[-1]]))} on "
            f"{'; '.join(machines)}, with `{RECORD_COMMAND}` (every benchmark, one after the other, each in "
            f"its own process); {REGENERATE} writes these tables from {code(FIGURES_PATH)}.")


def render_benchmark(name: str):
    def render(root: Path) -> str:
        item = read_figures(root).get(name)
        if item is None:
            return (f"Not recorded yet: run `python benchmarks/{name}.py --record` (or `{RECORD_COMMAND}`), "
                    f"then {REGENERATE}.")
        parts = [f"`{item['command']}`, recorded {item['recorded']} on {item['machine']}."]
        if item.get("target"):
            parts.append(f"Target: {item['target']}. Measured: **{item['measured']}** (met: {met_word(item['met'])}).")
        else:
            parts.append(f"Measured: {item['measured']}.")
        lines = [" ".join(parts), ""]
        for block in item["tables"]:
            if block.get("caption"):
                lines += [block["caption"] + ":", ""]
            lines.append(table(block["columns"], [[number(value) for value in row] for row in block["rows"]]))
        lines += [note + "\n" for note in item.get("notes") or []]
        return "\n".join(lines)

    return render
