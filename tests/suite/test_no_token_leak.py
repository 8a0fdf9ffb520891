"""No output of a run holds a token: not the files in --out, not stdout or stderr, not base64-inlined extras."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Iterator

from conformance.refserver.context import Settings
from conformance.refserver.server import RefServer

from .runs import OUTPUT_FILES, dxconform_run

# Base64 runs long enough to hide a token (data URIs, JSON blobs the HTML report embeds).
BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{24,}={0,2}")


def base64_forms(token: str) -> set[bytes]:
    """The token as it appears inside any base64 text, at each of the three byte alignments."""
    forms = set()
    raw = token.encode()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw)
        # drop the characters that mix in the padding bytes or what follows the token
        start = (pad * 8 + 5) // 6
        end = (len(raw) + pad) * 8 // 6
        core = encoded[start:end]
        forms |= {core, core.replace(b"+", b"-").replace(b"/", b"_")}
    return forms


def decoded_base64_runs(data: bytes) -> Iterator[bytes]:
    for match in BASE64_RUN.finditer(data):
        chunk = match.group(0)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                yield decode(chunk + b"=" * (-len(chunk) % 4))
            except (binascii.Error, ValueError):
                continue


def leaks(data: bytes, tokens: list[str]) -> list[str]:
    found = []
    for token in tokens:
        if token.encode() in data:
            found.append(f"{token[:8]}… in clear")
        if any(form in data for form in base64_forms(token)):
            found.append(f"{token[:8]}… base64-encoded")
        if any(token.encode() in decoded for decoded in decoded_base64_runs(data)):
            found.append(f"{token[:8]}… inside a base64 blob")
    return found


def test_base64_forms_find_a_token_at_any_offset():
    token = "tok-" + secrets.token_hex(16)
    for prefix in (b"", b"x", b"xy", b"Authorization: Bearer "):
        blob = base64.b64encode(prefix + token.encode() + b" trailing")
        assert leaks(b"data:text/plain;base64," + blob, [token]), prefix
    assert leaks(b"nothing to see here", [token]) == []


def test_no_token_in_any_output(tmp_path):
    """One run against a server with distinctive tokens and two faults (failures carry the most detail), then
    every output is searched. One test for one run: under xdist a module fixture would run once per worker."""
    tokens = {"alice": "tokA-" + secrets.token_hex(20), "bob": "tokB-" + secrets.token_hex(20)}
    settings = Settings(users=tokens, closing_ms=100, faults=frozenset({"tags-do-not-stick", "no-nosniff"}))
    with RefServer(settings=settings) as server:
        # the auth cases send tokens every way (bad, absent, in the query and the body) and json-output's
        # check every answer: about half the suite, where a leak would show
        run = dxconform_run(["--server", server.url, "--token", tokens["alice"], "--token2", tokens["bob"],
                             "-k", "auth or json-output or tags-types"], tmp_path / "out")
    secret = list(tokens.values())

    # the run did its work, with failures to report and every output written
    assert run.returncode == 1, run.describe()
    assert run.by_outcome("failed") and run.by_outcome("passed"), run.describe()
    for name in OUTPUT_FILES:
        assert (run.out / name).is_file(), name
    assert "Bearer ***" in (run.out / "results.json").read_text(), "no redacted Authorization header recorded"

    # no token anywhere: the three outputs, any other file in --out, stdout, stderr
    written = [path for path in run.out.rglob("*") if path.is_file()]
    assert {p.name for p in written} >= set(OUTPUT_FILES)
    for path in written:
        assert leaks(path.read_bytes(), secret) == [], path
    assert leaks(run.stdout.encode(), secret) == []
    assert leaks(run.stderr.encode(), secret) == []
