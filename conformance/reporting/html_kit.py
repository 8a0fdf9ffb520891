"""Shared pieces of dxconform's HTML pages: the inline stylesheet, escaping, outcome colours, a page shell.

Every page is one self-contained file: styles inline, no script needed to read it, nothing loaded from
the network (no CDN, no web fonts, no images other than inline SVG).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from .evidence import MISSING

# Verdict or outcome -> (text colour, background). Colour is never the only signal: cells also carry words.
COLOURS = {
    "passed": ("#1b5e20", "#e3f3e4"), "pass": ("#1b5e20", "#c8e6c9"),
    "failed": ("#b71c1c", "#fde3e3"), "fail": ("#b71c1c", "#f8c4c4"),
    "error": ("#8a3b00", "#fde9d6"),
    "incomplete": ("#8a3b00", "#ffe0b2"),
    "unsupported": ("#37474f", "#e4eaee"), "skipped": ("#555555", "#eeeeee"),
    "flaky": ("#6d4c00", "#fff3c4"), "xfailed": ("#4a148c", "#efe3f7"), "xpassed": ("#004d40", "#d9f2ee"),
    "known failures": ("#4a148c", "#e6d4f2"), "not run": ("#757575", "#f5f5f5"), "n/a": ("#757575", "#f5f5f5"),
    "not-applicable": ("#616161", "#f2f2f2"), "not implemented": ("#455a64", "#eceff1"),
}

# A value whose JSON is at most this long is shown on one line.
SHORT_JSON = 60

STYLE = """
.dxc { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 13px;
  color: #1d1d1d; line-height: 1.4; }
.dxc h2 { font-size: 18px; margin: 22px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
.dxc h3 { font-size: 15px; margin: 16px 0 6px; }
.dxc table { border-collapse: collapse; margin: 4px 0 12px; }
.dxc th, .dxc td { border: 1px solid #d0d0d0; padding: 3px 8px; text-align: left; vertical-align: top; }
.dxc th { background: #f3f3f3; font-weight: 600; }
.dxc td.n { text-align: right; font-variant-numeric: tabular-nums; }
.dxc td.zero { color: #b0b0b0; }
.dxc .v { font-weight: 700; text-transform: uppercase; font-size: 11px; padding: 1px 6px; border-radius: 3px; }
.dxc pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: 6px 8px; margin: 3px 0 8px;
  white-space: pre-wrap; word-break: break-all; max-height: 360px; overflow: auto; font-size: 12px; }
.dxc code { font-size: 12px; }
.dxc details { margin: 4px 0; }
.dxc details > summary { cursor: pointer; padding: 2px 0; }
.dxc .failure { border-left: 4px solid #c62828; padding: 2px 10px; margin: 8px 0 14px; background: #fffafa; }
.dxc .failure.level-SHOULD, .dxc .failure.level-MAY { border-left-color: #ef8f00; }
.dxc .meta td:first-child { font-weight: 600; white-space: nowrap; }
.dxc .udiff .del { color: #b71c1c; } .dxc .udiff .ins { color: #1b5e20; }
.dxc nav a { margin-right: 14px; }
.dxc .headline td.verdict { min-width: 150px; }
.dxc .muted { color: #777; }
.dxc .fields span { display: inline-block; margin: 0 4px 2px 0; padding: 0 4px; border-radius: 3px; }
.dxc .fields .seen { background: #e3f3e4; } .dxc .fields .unseen { background: #fde3e3; }
.dxc .fields .extra { background: #fff3c4; }
.dxc .matrix td.cell { text-align: center; min-width: 80px; }
.dxc .banner { font-size: 22px; border-bottom: none; margin-top: 6px; }
.dxc table.compact td, .dxc table.compact th { padding: 2px 8px; }
.dxc #dx-root-causes li { margin: 2px 0; } .dxc #dx-root-causes .count { color: #b71c1c; }
.dxc ul.ids { margin: 2px 0; padding-left: 18px; }
.dxc table.tight td { padding: 1px 6px; } .dxc table.tight td:nth-child(n+3) { text-align: right; }
.dxc p.member { margin: 2px 0; }
"""


# Control characters HTML forbids in text (a server's answer may hold them): each shows as U+FFFD.
_NOT_HTML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)], "\ufffd")


def esc(value: Any) -> str:
    return escape(str(value), quote=True).translate(_NOT_HTML)


def shown_json(value: Any) -> str:
    """A value as indented JSON text for a <pre> (text stays text; a value never recorded shows as such)."""
    if value is MISSING:
        return "(not recorded)"
    if isinstance(value, str):
        return value
    try:
        short = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return short if len(short) <= SHORT_JSON else json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def coloured(word: str, text: str | None = None) -> str:
    """A verdict or outcome word on its colour."""
    fg, bg = COLOURS.get(word, ("#1d1d1d", "#ffffff"))
    return f"<span class='v' style='color:{fg};background:{bg}'>{esc(text if text is not None else word)}</span>"


def _slug(word: str) -> str:
    return word.replace(" ", "-").replace("/", "-")


# Colour classes for verdict words (`verdict_tag`): long tables name a class instead of repeating a style.
VERDICT_CLASSES = "".join(f".dxc .v-{_slug(word)} {{ color: {fg}; background: {bg}; }}\n"
                          for word, (fg, bg) in COLOURS.items())


def verdict_tag(word: str) -> str:
    """A verdict or outcome word on its colour, by class (compact where a table repeats it)."""
    return f"<span class='v v-{_slug(word)}'>{esc(word)}</span>"


def plain_count(count: int, column: str = "") -> str:
    """A count cell of a long table: the number, or empty for 0 (the table's note says so); `column` names it
    (data-col) where a reader or a test looks a cell up."""
    named = f" data-col='{esc(column)}'" if column else ""
    return f"<td{named}>{count or ''}</td>"


def cell_style(word: str) -> str:
    fg, bg = COLOURS.get(word, ("#1d1d1d", "#ffffff"))
    return f"color:{fg};background:{bg}"


def number_cell(count: int, attributes: str = "") -> str:
    return f"<td class='n{' zero' if not count else ''}'{(' ' + attributes) if attributes else ''}>{count}</td>"


STYLE = STYLE + VERDICT_CLASSES


def page(title: str, body: str) -> str:
    """A whole self-contained HTML document around `body` (which sits inside <div class='dxc'>)."""
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width'><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head><body><div class='dxc'><h1>{esc(title)}</h1>{body}</div></body></html>\n")
