"""Where the shipped data (schemas/, cases/) lives: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """The directory of shipped data `name` ("schemas" or "cases").

    A wheel carries it at conformance/_data/<name> (see pyproject's force-include); a source checkout or
    an editable install reads it from the repository root, so edits are seen without reinstalling.
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"dxconform data directory {name!r} not found (broken installation?)")


def schemas_dir() -> Path:
    return data_dir("schemas")


def cases_dir() -> Path:
    return data_dir("cases")
