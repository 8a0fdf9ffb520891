"""Markdown building blocks for the generated pages: tables, inline code, one-line cells."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(value: object) -> str:
    """A value as one table cell: on one line, with pipes escaped."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def code(value: object) -> str:
    """Inline code on one line (table() escapes pipes; backticks inside are not expected in our values)."""
    return "`" + " ".join(str(value).split()) + "`"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "-"
