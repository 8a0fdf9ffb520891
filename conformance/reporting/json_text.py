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
from .encodable import write_text

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
    """`scrubbed_text(value, scrubber, indented)` and a newline, written to `path` as UTF-8, holding fewer copies
    of the text at once: the compact text, its bytes, the indented bytes, each let go as the next is made (a
    run of ten times the suite writes a results.json of about 90 MB; the text and its copies were most of the
    run's peak memory). Text msgspec cannot re-indent takes the standard library's way, as `indented` does."""
    compact = json.dumps(value, ensure_ascii=False, default=str)
    if may_hold_token(scrubber, compact):
        value = scrubber.scrub_json(value)
        compact = json.dumps(value, ensure_ascii=False, default=str)
    try:
        data = compact.encode("utf-8")
    except UnicodeEncodeError:   # a lone surrogate: written as its escape (encodable.py)
        data = None
    del compact
    if data is not None:
        try:
            data = msgspec.json.format(data, indent=INDENT)
        except msgspec.DecodeError:   # NaN or Infinity: not JSON to msgspec
            data = None
    if data is None:
        write_text(path, json.dumps(value, indent=INDENT, ensure_ascii=False, default=str) + "\n")
        return
    with open(path, "wb") as out:
        out.write(data)
        out.write(b"\n")


def scrubbed_text(value: Any, scrubber: Redactor, dump: Callable[[Any], str]) -> str:
    """dump(scrubber.scrub_json(value)), scrubbing as data only when the text may hold a token."""
    text = dump(value)
    if may_hold_token(scrubber, text):
        text = dump(scrubber.scrub_json(value))
    return text
