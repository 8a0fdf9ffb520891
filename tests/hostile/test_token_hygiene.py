"""Token hygiene: no token, in any encoded form, on stdout, stderr, in logs, warnings or any output file."""

from __future__ import annotations

import io
import json
import logging
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.output_guard import guard_outputs
from conformance.redaction import LARGE, MIN_ANYWHERE, REDACTED, Redactor, match_length

from .echo_servers import EchoServer, echo_as_status_line, echo_everywhere
from .token_forms import assert_no_token, found_forms, token_forms

SPECIAL = "tok&en'with<special/9f3e"    # HTML-, JSON- and URL-escaped differently by every encoder
PLAIN = "plainsecrettoken42"
TOKENS = (SPECIAL, PLAIN)


@pytest.mark.parametrize("token", TOKENS)
def test_every_encoded_form_is_scrubbed_from_text_and_bytes(token: str) -> None:
    redactor = Redactor(TOKENS)
    for name, form in token_forms(token).items():
        text = f"before {form} after"
        assert redactor.scrub(text) == f"before {REDACTED} after", name
        assert redactor.scrub(text.encode("utf-8")) == f"before {REDACTED} after".encode(), name
    everything = json.dumps(token_forms(token), ensure_ascii=False)
    assert_no_token(redactor.scrub(everything), token, "all forms at once")


def test_base64_of_the_token_is_scrubbed_at_every_offset_and_in_both_alphabets() -> None:
    import base64

    redactor = Redactor(TOKENS)
    for token in TOKENS:
        for prefix in (b"", b"x", b"xy", b"xyz"):
            data = prefix + token.encode() + b"!tail"
            for encoded in (base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()):
                assert found_forms(redactor.scrub(encoded), token) == [], (prefix, encoded)


def test_a_short_token_is_scrubbed_where_it_stands_alone_and_the_text_around_it_survives() -> None:
    short = "ab&c"
    assert len(short) < MIN_ANYWHERE
    redactor = Redactor([short])
    assert redactor.scrub("Bearer ab&c, about abacus") == "Bearer ***, about abacus"
    assert redactor.scrub('"ab&amp;c" xab&cx') == '"***" xab&cx'
    assert Redactor(["a"]).scrub("a b a about") == "*** b *** about"


def test_json_data_is_scrubbed_string_by_string_and_stays_json() -> None:
    quoted = 'tok"en\\with-quote-and-backslash'
    document = {"message": f"echo {quoted}", quoted: [1, {"deep": token_forms(SPECIAL)["html"]}]}
    clean = Redactor([quoted, SPECIAL]).scrub_json(document)
    assert clean == {"message": f"echo {REDACTED}", REDACTED: [1, {"deep": REDACTED}]}


def test_json_scrubbing_copies_only_the_way_to_a_token_and_never_changes_its_input() -> None:
    # A run's results document is hundreds of MB in memory: a second whole copy at write time was most of the
    # headroom left against a server answering 2 MiB to every call.
    untouched, echoed = {"deep": ["a", {"b": "c"}]}, {"deep": ["a", f"echo {SPECIAL}"]}
    document = {"results": [untouched, echoed]}
    clean = Redactor([SPECIAL]).scrub_json(document)
    assert clean["results"][0] is untouched and clean["results"][1]["deep"][0] == "a"
    assert clean["results"][1] == {"deep": ["a", f"echo {REDACTED}"]}
    assert echoed["deep"][1] == f"echo {SPECIAL}"                       # the input is not changed
    assert Redactor([SPECIAL]).scrub_json(untouched) is untouched


def test_the_output_guard_scrubs_streams_logs_and_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    logger = logging.getLogger("tests.hostile.guarded")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        with guard_outputs([PLAIN]) as guard:
            guard.add([SPECIAL])
            print("split", SPECIAL[:5], end="")
            sys.stdout.write(SPECIAL[5:] + " done\n")
            print(token_forms(SPECIAL)["html"], file=sys.stderr, flush=True)
            logger.warning("unparsed data: %r", ValueError(f"Bearer {SPECIAL}"))
            try:
                raise RuntimeError(f"Bearer {PLAIN}")
            except RuntimeError:
                logger.exception("failed for %s", token_forms(PLAIN)["base64-0"])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                warnings.warn(f"server echoed {SPECIAL}", UserWarning, stacklevel=1)
            shown = warnings.formatwarning(caught[0].message, UserWarning, "f.py", 1)
    finally:
        logger.removeHandler(handler)
    formatter = logging.Formatter()
    logged = "\n".join(formatter.format(record) for record in records)
    assert "unparsed data" in logged and "RuntimeError" in logged and "server echoed ***" in shown
    for token in TOKENS:
        assert_no_token(out.getvalue(), token, "stdout")
        assert_no_token(err.getvalue(), token, "stderr")
        assert_no_token(logged, token, "logs")
        assert_no_token(shown, token, "warnings")
    assert out.getvalue() == "split *** done\n" and sys.stdout is out


def run_command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`dxconform ARGS` in a child process (its real stdout and stderr), killed if it overstays."""
    command = [sys.executable, "-m", "conformance.cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def assert_clean(result: subprocess.CompletedProcess[str], out: Path) -> None:
    files = [path for path in out.rglob("*") if path.is_file()]
    for token in TOKENS:
        assert_no_token(result.stdout, token, "stdout")
        assert_no_token(result.stderr, token, "stderr")
        for path in files:
            assert_no_token(path.read_bytes(), token, str(path))


@pytest.mark.timeout(90)
@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_run_against_a_server_that_echoes_the_tokens_everywhere(tmp_path: Path, workers: str) -> None:
    out = tmp_path / "out"
    with EchoServer(echo_everywhere) as server:
        result = run_command("run", "--server", server.url, "--token", SPECIAL, "--token2", PLAIN, "-k", "whoami",
                             "--out", str(out), "-n", workers, "--timeout", "5")
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    # The echoes did reach the run: urllib3's warnings in the captured logs, the bodies in the results.
    assert "Failed to parse headers" in result.stdout and "Bearer ***" in result.stdout
    assert "who are you, ***?" in (out / "results.json").read_text()
    assert {"results.json", "junit.xml", "report.html"} <= {path.name for path in out.iterdir()}
    assert any((out / "repro").iterdir())
    assert_clean(result, out)


@pytest.mark.timeout(60)
def test_a_status_line_that_echoes_the_token_stops_the_probe_without_showing_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with EchoServer(echo_as_status_line) as server:
        result = run_command("run", "--server", server.url, "--token", SPECIAL, "--token2", PLAIN,
                             "--out", str(out), "--timeout", "5")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("dxconform: error: ") and "Traceback" not in result.stderr
    assert "did not answer in HTTP (it sent " in result.stderr and "Bearer ***" in result.stderr, result.stderr
    assert_clean(result, out)


@pytest.mark.timeout(60)
def test_the_proxy_and_validate_never_show_an_echoed_token(tmp_path: Path) -> None:
    out = tmp_path / "proxy"
    with EchoServer(echo_everywhere) as server:
        command = [sys.executable, "-m", "conformance.cli.main", "proxy", "--upstream", server.url,
                   "--listen", "127.0.0.1:0", "--out", str(out)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            url = process.stdout.readline().strip().removeprefix("listening on ")
            for token in TOKENS:
                answer = requests.post(url + "/system/whoami", data=b"{}", headers={"Authorization": f"Bearer {token}"},
                                       timeout=30)
                assert answer.json()["echo"]["raw"] == token     # the client gets the answer as it was
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode in (0, 1) and "exchanges.har" in stdout, stderr
    assert_clean(subprocess.CompletedProcess(command, process.returncode, stdout, stderr), out)
    again = run_command("validate", str(out / "exchanges.har"), "--out", str(tmp_path / "validate"))
    assert again.returncode in (0, 1) and "2 API exchange(s)" in again.stdout, again.stderr
    assert_clean(again, tmp_path / "validate")


@pytest.mark.timeout(60)
def test_a_recording_of_a_server_that_echoes_the_tokens_holds_none(tmp_path: Path) -> None:
    golden = tmp_path / "golden" / "golden.json"
    with EchoServer(echo_everywhere) as server:
        result = run_command("record", "--server", server.url, "--token", SPECIAL, "--token2", PLAIN,
                             "--case", "whoami", "--out", str(golden), "--timeout", "5")
    assert result.returncode == 0 and golden.is_file(), result.stderr[-2000:]
    assert "who are you, ***?" in golden.read_text()
    assert_clean(result, golden.parent)


@settings(max_examples=60, deadline=None, database=None)
@given(st.text(alphabet="abcXYZ019_-.&'<>/%+= \u00e9\u4e2d", min_size=1, max_size=24))
def test_the_length_check_that_spares_the_pattern_never_misses_a_form(token: str) -> None:
    """Text shorter than any form of any token can be (match_length) is not run through the pattern, nor a large
    text without any of the tokens' literal parts (token_anchors): every encoded form, however short, alone or
    inside a large text, must still be found, in text and in bytes."""
    redactor = Redactor([token])
    if not redactor:
        return
    padding = "." * LARGE
    for name, form in token_forms(token).items():
        for text in (form, f"{padding} {form} {padding}"):
            matched = redactor._text.search(text) is not None          # the pattern alone, nothing skipped
            assert redactor.contains(text) is matched, name
            assert redactor.contains(text.encode("utf-8")) is matched, name


def test_text_shorter_than_any_form_of_a_token_is_not_run_through_the_pattern() -> None:
    redactor = Redactor(TOKENS)

    class Refuse:
        def sub(self, *args):
            raise AssertionError("the pattern ran")
        search = sub

    shortest = min(match_length(token) for token in TOKENS)
    redactor._text = redactor._bytes = Refuse()
    short = "x" * (shortest - 1)
    assert redactor.scrub(short) == short and redactor.scrub(short.encode()) == short.encode()
    assert redactor.scrub_json({"Content-Type": ["application/json", 7]}) == {"Content-Type": ["application/json", 7]}
    assert not redactor.contains(short)
    large = b"\x00 no token here " * LARGE
    assert redactor.scrub(large) is large and not redactor.contains(large.decode())
