"""The encoded forms of a token a hostile server may echo, and `assert_no_token`, written apart from redaction.py."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus


def base64_parts(token: str) -> set[str]:
    """For each byte offset (0, 1, 2) of the token in a base64 stream, and either alphabet: the characters of the
    encoding made of the token's bits alone (the same whatever bytes surround it)."""
    data = token.encode("utf-8")
    parts = set()
    for offset in range(3):
        # Two different surroundings: the characters they agree on, at the token's place, are its stable part.
        one = base64.b64encode(b"\x00" * offset + data + b"\x00\x00").decode()
        two = base64.b64encode(b"\xff" * offset + data + b"\xff\xff").decode()
        start = (offset * 4 + 2) // 3
        end = start
        while end < min(len(one), len(two)) and one[end] == two[end]:
            end += 1
        stable = one[start:end]
        assert len(stable) >= len(data) * 4 // 3 - 2, (offset, stable)
        parts |= {stable, stable.replace("+", "-").replace("/", "_")}
    return parts


def token_forms(token: str) -> dict[str, str]:
    """name -> one encoded form of `token`."""
    forms = {
        "raw": token,
        "reversed": token[::-1],
        "html": html.escape(token),
        "html-noquote": html.escape(token, quote=False),
        "html-39": html.escape(token).replace("&#x27;", "&#39;"),
        "html-apos": html.escape(token).replace("&#x27;", "&apos;"),
        "json": json.dumps(token)[1:-1],
        "json-ascii": json.dumps(token, ensure_ascii=True)[1:-1],
        "json-u-all": "".join(f"\\u{ord(c):04x}" if not c.isalnum() else c for c in token),
        "json-slash": json.dumps(token)[1:-1].replace("/", "\\/"),
        "quote": quote(token),
        "quote-nosafe": quote(token, safe=""),
        "quote_plus": quote_plus(token),
        "repr": repr(token)[1:-1],
        "repr-bytes": repr(token.encode())[2:-1],
    }
    for index, part in enumerate(sorted(base64_parts(token))):
        forms[f"base64-{index}"] = part
    return forms


def found_forms(blob: str | bytes, token: str) -> list[str]:
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return [name for name, form in token_forms(token).items() if form in text]


def assert_no_token(blob: str | bytes, token: str, where: str = "") -> None:
    """No encoded form of `token` is in `blob`; the message names the forms found and shows the first."""
    found = found_forms(blob, token)
    if found:
        text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
        form = token_forms(token)[found[0]]
        at = text.find(form)
        raise AssertionError(f"{where}: token found as {found}: ...{text[max(0, at - 120):at + len(form) + 60]!r}...")


def assert_run_shows_no_token(run, tokens) -> None:
    """A finished `dxconform run` (tests/suite/runs.py Run) holds no form of any token: not in its stdout, its
    stderr, nor in any file of its output directory."""
    files = sorted(p for p in run.out.rglob("*") if p.is_file()) if run.out.is_dir() else []
    for token in tokens:
        assert_no_token(run.stdout, token, "stdout")
        assert_no_token(run.stderr, token, "stderr")
        for path in files:
            assert_no_token(path.read_bytes(), token, str(path))
