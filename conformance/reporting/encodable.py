"""Text every output can carry: a lone surrogate (a JSON answer may hold "\\ud800") written as a visible escape.

A server's answer may hold characters no UTF-8 file can: JSON's `"\\udc00"` parses to a lone surrogate, and a
failure's values and messages carry it on into every report. Each writer of a report file goes through
`write_text`: such a character becomes its `\\uXXXX` escape (backslashreplace), which in results.json is the
JSON escape of the very same character, and in report.html, junit.xml and the scripts plain visible text.
"""

from __future__ import annotations

from pathlib import Path

ERRORS = "backslashreplace"


def encodable(text: str) -> str:
    """`text` with every character UTF-8 cannot encode as its backslash escape."""
    return text.encode("utf-8", ERRORS).decode("utf-8")


def write_text(path: Path, text: str) -> None:
    """Write a report file as UTF-8; a character UTF-8 cannot encode is written as its backslash escape."""
    path.write_text(text, encoding="utf-8", errors=ERRORS)
