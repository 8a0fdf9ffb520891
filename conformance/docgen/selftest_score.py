"""The self-test regions of README.md and docs/selftest.md: the recorded score, checked against the catalogue."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..selftest import CATALOGUE, Entry
from ..selftest.record import RECORD_COMMAND, RECORD_PATH, RecordError, ScoreRecord, read_record
from .markdown import code

REGENERATE = "`python -m conformance.docgen`"


def duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def clean_state(record: ScoreRecord) -> str:
    if record.clean_ok:
        return "0 failures"
    if record.clean_failures:
        return plural(record.clean_failures, "failure")
    return "not clean (" + "; ".join(record.clean_problems) + ")"


def provenance(record: ScoreRecord) -> str:
    machine = f" on {plural(record.cpus, 'CPU')}" if record.cpus else ""
    whole = ", whole suite per fault" if record.whole else ""
    return (f"dxconform {record.dxconform}, recorded {record.date}; the sweep took {duration(record.seconds)} "
            f"with `-n {record.workers}`{whole}{machine}")


def outdated_by(record: ScoreRecord, catalogue: tuple[Entry, ...]) -> str | None:
    """How the recorded faults differ from the catalogue's now, in words; None when they are the same."""
    now = [e.fault for e in catalogue]
    if sorted(record.faults) == sorted(now):
        return None
    added = [name for name in now if name not in record.faults]
    removed = [name for name in record.faults if name not in now]
    changes = ([f"new: {', '.join(code(n) for n in added)}"] if added else []) + \
        ([f"gone: {', '.join(code(n) for n in removed)}"] if removed else [])
    return f"{plural(len(now), 'fault')} now" + (f" ({'; '.join(changes)})" if changes else "")


def score_line(record: ScoreRecord | None, catalogue: tuple[Entry, ...] = CATALOGUE) -> str:
    """The score as recorded, or plainly why there is no current one."""
    rerun = f"re-run `{RECORD_COMMAND}`, then {REGENERATE}"
    if record is None:
        return f"No score recorded yet ({RECORD_PATH} is missing): run `{RECORD_COMMAND}`, then {REGENERATE}."
    outdated = outdated_by(record, catalogue)
    if outdated:
        return (f"No current score: the last recorded sweep (dxconform {record.dxconform}, recorded {record.date}, "
                f"{plural(record.total, 'fault')}) was recorded for an older catalogue: {outdated}; {rerun}.")
    line = (f"Score at the last recorded sweep: **{len(record.caught)}/{record.total} faults caught; "
            f"clean server: {clean_state(record)}** ({provenance(record)}).")
    if record.escaped:
        line += f" Escaped: {', '.join(code(n) for n in record.escaped)}."
    return line


def areas_in_order(entries: tuple[Entry, ...]) -> list[str]:
    return list(dict.fromkeys(e.area for e in entries))


def quick_set_sentence(catalogue: tuple[Entry, ...]) -> str:
    quick = tuple(e for e in catalogue if e.quick)
    covered, areas = len(areas_in_order(quick)), len(areas_in_order(catalogue))
    reach = f"all {areas} areas" if covered == areas else f"{covered} of its {areas} areas"
    return f"CI runs its quick set of {plural(len(quick), 'fault')}, covering {reach}"


def catalogue_summary(catalogue: tuple[Entry, ...], per_area: bool) -> str:
    """The catalogue's size, areas and levels (static facts of the suite, not of a run)."""
    areas = Counter(e.area for e in catalogue)
    levels = Counter(e.level for e in catalogue)
    spread = (f"{len(areas)} areas (" + ", ".join(f"{a} {areas[a]}" for a in areas_in_order(catalogue)) + ")"
              if per_area else f"{len(areas)} areas")
    return (f"The catalogue: {plural(len(catalogue), 'fault')} over {spread}, {levels['MUST']} MUST rules and "
            f"{levels['SHOULD']} SHOULD; {quick_set_sentence(catalogue)}.")


def render_region(root: Path, per_area: bool) -> str:
    record = read_record(root / RECORD_PATH)
    return f"{score_line(record)} {catalogue_summary(CATALOGUE, per_area)}"


def render_readme(root: Path) -> str:
    return render_region(root, per_area=False)


def render_selftest_page(root: Path) -> str:
    return render_region(root, per_area=True)


__all__ = ["RecordError", "render_readme", "render_selftest_page", "score_line"]
