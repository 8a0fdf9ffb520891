"""The real-traffic region of docs/differential.md: the recorded replay of the project's copy of real platform
traffic against the embedded reference server (conformance/differential/traffic_score.py records it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ..differential.traffic_score import RECORD_COMMAND, RECORD_PATH, read_record
from .markdown import code

REGENERATE = "`python -m conformance.docgen`"


def _day(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d") if ms else "?"


def _share(part: int, whole: int) -> str:
    return f"{part:,}/{whole:,} ({round(100.0 * part / whole, 1) if whole else 0.0}%)"


def render(root: Path) -> str:
    record = read_record(root / RECORD_PATH)
    if record is None:
        return f"No replay recorded yet ({RECORD_PATH} is missing): run `{RECORD_COMMAND}`, then {REGENERATE}."
    whole = record["api_exchanges"]
    clients = ", ".join(record.get("clients") or []) or "unknown clients"
    lines = [
        f"The project's copy of real traffic ({code(record['corpus'])}: {record['tests']} recorded tests, "
        f"{record['exchanges']:,} exchanges of {clients} with the production platform, "
        f"{_day(record.get('recorded_first'))} to {_day(record.get('recorded_last'))}) replayed against the "
        f"embedded reference server: **{_share(record['matched'], whole)} API exchanges match on status, error "
        f"type and key set**, and {record['storage_exchanges']} uploads and downloads were replayed through the "
        f"URLs the server handed out. Without the ignore files, {_share(record['matched_without_ignores'], whole)} "
        "match; the differences the ignore files account for, by reason (as counted at the recording: a page of "
        "one holds whichever object the random IDs put first, so one count varies):",
        "",
        "| differences | reason (conformance/differential/platform-ignores.yaml, default-ignores.yaml) |",
        "|---|---|",
    ]
    lines += [f"| {count:,} | {reason.replace('|', '/')} |" for reason, count in record["ignored"].items()]
    lines += ["", "Per route (API exchanges matching / recorded):", ""]
    lines += ["| route | matching |", "|---|---|"]
    lines += [f"| {code(route)} | {_share(figures['matched'], figures['exchanges'])} |"
              for route, figures in record["by_route"].items()]
    lines += ["", f"Recorded {record['date']} with dxconform {record['dxconform']} (the replay took "
                  f"{round(record['seconds'])} s on {record['cpus']} CPUs); `tests/differential/"
                  f"test_real_traffic_diff.py` replays it again and fails when these figures are out of date. "
                  f"Re-record with `{RECORD_COMMAND}`, then {REGENERATE}."]
    return "\n".join(lines)
