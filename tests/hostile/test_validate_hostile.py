"""`dxconform validate` on hostile HAR files: a clear outcome (results, or one line and exit 2), never a
traceback, and bounded memory (the child process's peak RSS) whatever the file holds."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from conformance.cli.main import main
from conformance.proxy.har import LIMIT_NOTE, MAX_HAR_BYTES, MAX_HAR_ENTRIES
from conformance.proxy.monitor import MAX_CHECKED_BODY_BYTES

from .token_forms import assert_no_token

RSS_BOUND_MB = 500
TOKEN = "validate-hostile-secret-token"
# Runs a command and prints the peak RSS (MB) of it alone: a child forked from this small process, not from
# the test process (whose pages a fork would count until its exec).
PEAK_RSS = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024); sys.exit(code)")


def entry(response_text: str = '{"id": "user-x"}', request_text: str = "{}", **changes: Any) -> dict[str, Any]:
    record = {"startedDateTime": "2026-01-01T00:00:00Z", "time": 1,
              "request": {"method": "POST", "url": "http://127.0.0.1:9/system/whoami",
                          "headers": [{"name": "Authorization", "value": f"Bearer {TOKEN}"}],
                          "postData": {"mimeType": "application/json", "text": request_text}},
              "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "application/json"}],
                           "content": {"mimeType": "application/json", "text": response_text}}}
    record.update(changes)
    return record


def har(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "entries": list(entries)}}


DEEP = "[" * 100_000 + "]" * 100_000
# name -> (HAR document or raw text, expected exit code, what the one error line says (exit 2) or None)
CASES: dict[str, tuple[Any, int | tuple[int, ...], str | None]] = {
    "deep JSON answer": (har(entry(response_text=DEEP)), (0, 1), None),
    "deep JSON request": (har(entry(request_text=DEEP)), (0, 1), None),
    "deep HAR": ('{"log": {"entries": ' + DEEP + "}}", 2, "JSON nested too deeply"),
    "lone surrogate body": (har(entry(response_text="\ud800 echo " + TOKEN)), 1, None),
    "odd characters": (har(entry(request={"method": "\u0000\u202e", "url": "http://h/\x00/\u202e?\ufeff=1",
                                          "headers": [{"name": 5, "value": None}, {"name": "a\r\nb", "value": "\0"}]})),
                       1, None),
    "infinite time": (har(entry(time=float("inf"))), 0, None),
    "boolean status": (har(entry(response={"status": True, "headers": [], "content": {"text": "{}"}})), 0, None),
    "giant status": (har(entry(response={"status": 10**40, "headers": [], "content": {"text": "{}"}})), 0, None),
    "broken IPv6 URL": (har(entry(request={"method": "POST", "url": "http://[::1:80/x", "headers": []})), 2,
                        "the request url is not a URL"),
    "not UTF-8": (b"\xff\xfe\x00{", 2, "not JSON"),
    "entries not a list": ({"log": {"entries": {"a": 1}}}, 2, "not a HAR file"),
    "bad base64": (har(entry(response={"status": 200, "headers": [], "content": {"text": "!", "encoding": "base64"}})),
                   2, "a body marked base64 is not base64"),
}


def write(path: Path, content: Any) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(json.dumps(content, allow_nan=True).encode("utf-8", "surrogatepass"))
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_har_gets_a_clear_outcome(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content, expected, says = CASES[name]
    path = write(tmp_path / "hostile.har", content)
    code = main(["validate", str(path), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code in (expected if isinstance(expected, tuple) else (expected,)), captured.err
    assert "Traceback" not in captured.out + captured.err
    if code == 2:
        [line] = captured.err.strip().splitlines()
        assert line.startswith(f"dxconform: error: {path}: ") and says in line, line
    else:
        assert json.loads((tmp_path / "out" / "results.json").read_text())["traffic"]["api"] == 1
        for output in (tmp_path / "out").iterdir():
            assert_no_token(output.read_bytes(), TOKEN, str(output))
        assert_no_token(captured.out, TOKEN, "stdout")


def validate_measured(tmp_path: Path, *files: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """`dxconform validate FILES` in a child process: (the result, its peak RSS in MB)."""
    command = [sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "conformance.cli.main", "validate",
               *map(str, files), "--out", str(tmp_path / "out")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    peak = int(result.stdout.strip().splitlines()[-1])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    return result, peak


@pytest.mark.timeout(90)
def test_a_huge_answer_is_checked_as_cut_off_with_bounded_memory(tmp_path: Path) -> None:
    # 10 M empty objects: parsed and schema-checked whole, this body took 1.3 GB and 26 s.
    body = "[" + "{}," * (MAX_CHECKED_BODY_BYTES // 3 + 1000) + "{}]"
    path = write(tmp_path / "huge.har", har(entry(response_text=body), entry()))
    del body
    result, peak = validate_measured(tmp_path, path)
    assert result.returncode in (0, 1) and peak < RSS_BOUND_MB, (result.returncode, peak)
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["traffic"]["over_limit"] == 1 and document["traffic"]["api"] == 2
    assert "past the proxy's size limits" in result.stdout


@pytest.mark.timeout(90)
def test_a_base64_gzip_bomb_is_not_decoded(tmp_path: Path) -> None:
    deflater = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join([deflater.compress(b"\0" * 2**24) for _ in range(32)] + [deflater.flush()])   # 512 MiB
    answer = {"status": 200, "headers": [{"name": "Content-Type", "value": "application/json"},
                                         {"name": "Content-Encoding", "value": "gzip"}],
              "content": {"text": base64.b64encode(bomb).decode(), "encoding": "base64"}}
    path = write(tmp_path / "bomb.har", har(entry(response=answer)))
    result, peak = validate_measured(tmp_path, path)
    # A recording holds bodies as the client read them: a gzip body is checked as the bytes it is.
    assert result.returncode == 1 and peak < RSS_BOUND_MB, (result.returncode, peak)
    assert "server MUST   json_parses /system/whoami: 1 finding(s)" in result.stdout


@pytest.mark.timeout(60)
def test_files_past_the_limits_are_refused_in_one_line(tmp_path: Path) -> None:
    big = tmp_path / "big.har"
    with big.open("wb") as file:
        file.truncate(MAX_HAR_BYTES + 1)
    many = write(tmp_path / "many.har", {"log": {"entries": [{}] * (MAX_HAR_ENTRIES + 1)}})
    for path, says in ((big, f"over validate's limit of {MAX_HAR_BYTES} bytes"),
                       (many, f"over validate's limit of {MAX_HAR_ENTRIES}")):
        result, peak = validate_measured(tmp_path, path)
        [line] = result.stderr.strip().splitlines()
        assert result.returncode == 2 and says in line and peak < RSS_BOUND_MB, (line, peak)


def test_a_cut_request_is_noted_and_not_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.proxy import har as har_module

    monkeypatch.setattr(har_module, "MAX_BODY_BYTES", 1000)
    path = write(tmp_path / "cut.har", har(entry(request_text="[" + "1," * 1000 + "1]"), entry()))
    assert main(["validate", str(path), "--out", str(tmp_path / "out")]) == 0
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["traffic"]["over_limit"] == 1 and document["traffic"]["api"] == 1
    assert LIMIT_NOTE == "limit" and "1 exchange(s) past the proxy's size limits" in capsys.readouterr().out
