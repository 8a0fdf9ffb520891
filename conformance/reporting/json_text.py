"""JSON text of the run's outputs, fast: the very text the standard library writes, scrubbed of tokens as data.

`write_indented(path, value, scrubber)` writes `json.dumps(value, indent=1, ensure_ascii=False,
default=str)` of the scrubbed value, character for character. With an indent the standard library falls
back to its pure-Python encoder (about half a second for a whole run's results.json); here its C encoder writes the compact text and msgspec re-indents it, which
leaves every string and number as written. Text msgspec cannot re-indent (NaN and Infinity are not JSON, a
lone surrogate is not UTF-8) takes the standard library's own way, to the same result.

`scrubbed_text(value, scrubber, dump)` is `dump(scrubber.scrub_json(value))`: every form of every token
scrubbed from every string (keys included). Scrubbing as data walks every string of the value with the
token patterns; most values hold no token, so the value is dumped first and scrubbed (and dumped again)
only when the text holds what every form of a token must hold: the longest run of letters and digits of the
token, reversed or not, or a base64 middle of it (JSON writes these characters as they are, so a string
that holds a form of the token puts them into the text). A token with no letter or digit is always scrubbed
as data.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from ..redaction import MIN_ANYWHERE, Redactor, base64_middles
from .encodable import ERRORS
from .spooled_results import SpooledResult

INDENT = 1
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")


@functools.lru_cache(maxsize=64)
def _witnesses(tokens: tuple[str, ...]) -> tuple[str, ...] | None:
    """Strings of which every form of one of `tokens` holds at least one; None if a token has none."""
    found: list[str] = []
    for token in tokens:
        core = max(_ALNUM_RUN.findall(token), key=len, default="")
        if not core:
            return None
        found += [core, core[::-1]]
        if len(token) >= MIN_ANYWHERE:
            found += sorted(base64_middles(token))
    return tuple(found)


def may_hold_token(scrubber: Redactor, text: str) -> bool:
    """False only if no string of the JSON value that `text` is the dump of can hold a form of a token."""
    if not scrubber:
        return False
    witnesses = _witnesses(scrubber.tokens)
    return witnesses is None or any(witness in text for witness in witnesses)


def write_indented(path: Path, value: Any, scrubber: Redactor) -> None:
    """`json.dumps(scrubbed value, indent=1, ensure_ascii=False, default=str)` and a newline, written to `path`
    as UTF-8 piece by piece: a mapping's members one at a time, and a list among them item by item, each piece
    scrubbed and indented on its own. What the process holds at once is one piece's text, not the whole file's
    (a run of ten times the suite writes a results.json of about 90 MB: its text and copies of it were most of
    the run's peak memory)."""
    with open(path, "wb") as out:
        _write_piece(out, value, scrubber, b"", streamed=2)
        out.write(b"\n")


def _write_piece(out: Any, value: Any, scrubber: Redactor, indent: bytes, streamed: int) -> None:
    """`value` as json.dumps(indent=1) writes it at the nesting `indent`; mappings and lists of the outer
    `streamed` levels member by member."""
    inner = indent + b" " * INDENT
    if streamed and isinstance(value, dict) and value:
        out.write(b"{")
        for index, (key, member) in enumerate(value.items()):
            out.write(b"\n" if index == 0 else b",\n")
            out.write(inner + _piece(_key(key), scrubber, b"") + b": ")
            _write_piece(out, member, scrubber, inner, streamed - 1)
        out.write(b"\n" + indent + b"}")
    elif streamed and isinstance(value, list | tuple) and value:
        out.write(b"[")
        for index, item in enumerate(value):
            out.write(b"\n" if index == 0 else b",\n")
            out.write(inner)
            _write_piece(out, item, scrubber, inner, streamed - 1)
        out.write(b"\n" + indent + b"]")
    elif isinstance(value, SpooledResult):
        out.write(_piece(value, scrubber, indent, compact=value.text()))
    else:
        out.write(_piece(value, scrubber, indent))


def _key(key: Any) -> str:
    """A mapping's key as json.dumps names it (1 -> "1", None -> "null", True -> "true")."""
    return key if isinstance(key, str) else next(iter(json.loads(json.dumps({key: None}))))


def _piece(value: Any, scrubber: Redactor, indent: bytes, compact: str | None = None) -> bytes:
    """One value's indented text as UTF-8, its lines after the first shifted by `indent` (JSON text has no
    newline inside a string, so every newline starts a line). Text msgspec cannot re-indent (NaN and Infinity
    are not JSON, a lone surrogate is not UTF-8) takes the standard library's way, to the same result.
    `compact`: the value's compact text when it is at hand (a spooled result's), else it is dumped here."""
    if compact is None:
        compact = json.dumps(value, ensure_ascii=False, default=str)
    if may_hold_token(scrubber, compact):
        value = scrubber.scrub_json(_plain(value))
        compact = json.dumps(value, ensure_ascii=False, default=str)
    try:
        data = msgspec.json.format(compact.encode("utf-8"), indent=INDENT)
    except (UnicodeEncodeError, msgspec.DecodeError):
        data = json.dumps(_plain(value), indent=INDENT, ensure_ascii=False, default=str).encode(
            "utf-8", errors=ERRORS)
    return data.replace(b"\n", b"\n" + indent) if indent else data


def _plain(value: Any) -> Any:
    """A spooled result as the dict it stands for (read back); any other value as it is."""
    return value.whole() if isinstance(value, SpooledResult) else value


def scrubbed_text(value: Any, scrubber: Redactor, dump: Callable[[Any], str]) -> str:
    """dump(scrubber.scrub_json(value)), scrubbing as data only when the text may hold a token."""
    text = dump(value)
    if may_hold_token(scrubber, text):
        text = dump(scrubber.scrub_json(value))
    return text
