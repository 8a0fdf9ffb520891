"""Badges: one small SVG per profile and level ("core MUST 100%"), from the same tallies as report.html."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from .tallies import (
    NOT_IMPLEMENTED,
    NOT_IMPLEMENTED_VERDICT,
    Score,
    by_profile_level,
    profile_statuses,
    score,
)

BADGES_DIR = "badges"
# Background of the value half, by verdict (shields.io's palette, so the badges look familiar).
BADGE_COLOURS = {"pass": "#44cc11", "fail": "#e05d44", "known failures": "#9f60c0", "unsupported": "#9f9f9f",
                 "not run": "#9f9f9f", NOT_IMPLEMENTED_VERDICT: "#9f9f9f"}
LABEL_COLOUR = "#555555"
# Verdana 11px averages about 7 px per character; badges need only be about right, never clipped.
CHAR_WIDTH, PADDING = 7, 10
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def badge_value(verdict: Score) -> str:
    """The right half of a badge: the score, or why there is none."""
    return verdict.percent if verdict.judged else verdict.verdict


def badge_svg(label: str, value: str, colour: str) -> str:
    """A flat badge: grey label on the left, the value on its colour on the right."""
    left = len(label) * CHAR_WIDTH + PADDING
    right = len(value) * CHAR_WIDTH + PADDING
    width = left + right
    label_text, value_text = escape(label), escape(value)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='20' role='img' "
            f"aria-label='{label_text}: {value_text}'><title>{label_text}: {value_text}</title>"
            f"<rect width='{left}' height='20' fill='{LABEL_COLOUR}'/>"
            f"<rect x='{left}' width='{right}' height='20' fill='{colour}'/>"
            "<g fill='#fff' text-anchor='middle' font-family='Verdana,DejaVu Sans,sans-serif' font-size='11'>"
            f"<text x='{left / 2:g}' y='14'>{label_text}</text>"
            f"<text x='{left + right / 2:g}' y='14'>{value_text}</text></g></svg>\n")


def badge_name(profile: str, level: str) -> str:
    return f"{_UNSAFE.sub('_', profile)}-{_UNSAFE.sub('_', level)}.svg"


def badges(document: Mapping[str, Any]) -> dict[str, str]:
    """{file name: SVG} for every profile and level that has results; a profile neither claimed nor detected
    gets one badge, `<profile>.svg`, saying "not implemented" (no percentage)."""
    found = {}
    table = by_profile_level(document["results"])
    for profile, status in profile_statuses(document).items():
        if status == NOT_IMPLEMENTED:
            found[f"{_UNSAFE.sub('_', profile)}.svg"] = badge_svg(profile, NOT_IMPLEMENTED_VERDICT,
                                                                  BADGE_COLOURS[NOT_IMPLEMENTED_VERDICT])
            continue
        for level, counts in (table.get(profile) or {}).items():
            if sum(counts.values()):
                verdict = score(counts)
                found[badge_name(profile, level)] = badge_svg(
                    f"{profile} {level}", badge_value(verdict), BADGE_COLOURS[verdict.verdict])
    return found


def write_badges(document: Mapping[str, Any], directory: str | Path) -> list[Path]:
    """Write the badges into `directory` (its old badges removed first: a stale one must not pass for new)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.svg"):
        old.unlink()
    written = []
    for name, svg in badges(document).items():
        path = directory / name
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    return written


def write_run_badges(out_dir: str | Path) -> list[Path]:
    """The badges of the run whose results.json is in `out_dir`, into `out_dir/badges` (none without it)."""
    from .results_json import read_document

    directory = Path(out_dir) / BADGES_DIR
    try:
        document = read_document(Path(out_dir) / "results.json")
    except (OSError, ValueError):
        for old in directory.glob("*.svg"):
            old.unlink()
        return []
    return write_badges(document, directory)
