"""Reports never crash on what a server answers: lone surrogates, control characters, invalid UTF-8, 5 MB bodies.

Each writer (results.json, junit.xml, report.html, the reproduction scripts, the terminal) writes them, and
each file parses afterwards. Once in-process through the reporting functions, once end to end through a
`dxconform run` against a loopback server that answers nothing else.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from conformance.model import (
    Area,
    Exchange,
    Failure,
    FailurePhase,
    Finding,
    Headers,
    Level,
    Mismatch,
    Outcome,
    Request,
    Response,
    Result,
)
from conformance.pytest_plugin.failure_text import failure_text
from conformance.reporting.encodable import write_text
from conformance.reporting.junit_xml import junit_text
from conformance.reporting.report_page import standalone_page
from conformance.reporting.reproduction import write_scripts
from conformance.reporting.results_json import build_document, write_document
from tests.engine.hostile import HostileServer, answer
from tests.hostile.token_forms import assert_run_shows_no_token
from tests.suite.runs import dxconform_run

TOKEN, TOKEN2 = "odd&test'token<1", "odd-test-token-2"   # escaped by HTML, JSON and URLs alike
LONE = "\ud800"                      # what json.loads makes of "\ud800": no UTF-8 encoder takes it
CONTROLS = "\x00\x01\x07\x1b[31m\x7f\x85"
FIVE_MB = 5 * 1000 * 1000
# Answers as a server may send them: JSON escapes of lone surrogates and control characters, raw invalid
# UTF-8 with control bytes, and a 5 MB body.
ODD_JSON = (b'{"id": "\\ud800x\\u0001\\u001b[31m", "name": "\\udfff", "error": {"type": "\\udc80\\u0000", '
            b'"message": "bad \\u0000 \\u007f \\ud83d"}}')
ODD_BYTES = b'{"id": "\xff\xfe\x00\x01 \x1b[0m \xed\xa0\x80", "error": {"type": "\xc3", "message": "\x00"}}'


def _parses(out: Path) -> dict:
    document = json.loads((out / "results.json").read_text(encoding="utf-8"))
    ET.parse(out / "junit.xml")
    page = (out / "report.html").read_text(encoding="utf-8")
    HTMLParser().feed(page)
    assert "dxconform" in page
    for script in sorted((out / "repro").glob("*.py")):
        compile(script.read_text(encoding="utf-8"), str(script), "exec")
    return document


def _odd_result() -> Result:
    body = json.dumps({"id": LONE + CONTROLS, "big": "é" * (FIVE_MB // 2)}).encode()
    request = Request("POST", "http://127.0.0.1:9/record-xxxx/describe", "/record-xxxx/describe",
                      Headers({"Content-Type": "application/json"}), b'{"name": "\\ud800"}')
    exchanges = [Exchange(request, Response(200, Headers({"Content-Type": "application/json"}), body)),
                 Exchange(request, Response(400, Headers({}), ODD_BYTES)),
                 Exchange(request, Response(200, Headers({}), ODD_JSON))]
    miss = Mismatch(path="$.id", matcher="equals", text=f"$.id: expected 'x', got {LONE + CONTROLS!r}",
                    expected="x", actual=LONE + CONTROLS)
    finding = Finding("output_schema", Level.MUST, Area.JSON_OUTPUT, "https://example.invalid",
                      f"{LONE}{CONTROLS} is not a string of the form", actual=LONE, exchange_index=2)
    return Result(id="cases/json-output/odd.yaml::odd-answers", title=f"odd {LONE}", area=Area.JSON_OUTPUT,
                  topic="odd", level=Level.MUST, profile="core", outcome=Outcome.FAILED, source="https://x.invalid",
                  routes=["/record-xxxx/describe"], message=f"step 1: {miss.text}", exchanges=exchanges,
                  findings=[finding], failure=Failure(FailurePhase.STEP, step=1, location="odd.yaml:3", method="POST",
                                                      path="/record-xxxx/describe", exchange_index=2, misses=(miss,)))


def test_every_writer_takes_lone_surrogates_control_characters_and_5_mb_bodies(tmp_path):
    record = _odd_result().to_json()
    document = build_document(suite_version="0", schemas_sha256="0", server_url="http://127.0.0.1:9",
                              embedded=False, started_ms=0, finished_ms=1, case_results=[record], check_results=[])
    write_document(tmp_path / "results.json", document)
    write_text(tmp_path / "junit.xml", junit_text(document))
    write_text(tmp_path / "report.html", standalone_page(document))
    write_scripts(tmp_path, document)
    parsed = _parses(tmp_path)
    [result] = parsed["results"]
    # results.json keeps the lone surrogate as its JSON escape: read back, it is the very same character
    assert result["failure"]["misses"][0]["actual"] == LONE + CONTROLS
    assert result["findings"][0]["actual"] == LONE
    # the 5 MB body is cut for the record, with the whole body's length and sha256
    cut = result["exchanges"][0]["response"]["body_cut"]
    assert cut["length"] > FIVE_MB and len(cut["sha256"]) == 64
    # the terminal's text of the failure encodes as UTF-8 (a strict stream would raise otherwise)
    failure_text(record).encode("utf-8")


def test_a_run_against_a_server_answering_odd_characters_writes_every_report(tmp_path):
    big = b'{"id": "' + b"\\u0001\\ud800" * (FIVE_MB // 12) + b'"}'
    kinds = [("200 OK", ODD_JSON), ("400 Bad Request", ODD_JSON), ("200 OK", ODD_BYTES)]

    def odd(conn: socket.socket) -> None:
        request = server.requests[-1]
        if request.startswith(b"POST /system/whoami ") and len(server.requests) <= 2:   # the start-up probe
            user = b"1" if TOKEN.encode() in request else b"2"
            answer("200 OK", b'{"id": "user-' + user + b'"}', {"Content-Type": "application/json"})(conn)
            return
        # every tenth answer is 5 MB (more would only cost CI time: each is read, checked and cut the same way)
        status, body = ("200 OK", big) if len(server.requests) % 10 == 0 else kinds[len(server.requests) % 3]
        answer(status, body, {"Content-Type": "application/json"})(conn)

    with HostileServer(odd) as server:
        run = dxconform_run(["--server", server.url, "--token", TOKEN, "--token2", TOKEN2, "--timeout", "5",
                             "--reruns", "0", "-k", "tokens.yaml or identity.yaml"],
                            tmp_path / "out", timeout=120)
    assert run.returncode == 1, run.describe()
    assert "Traceback" not in run.stderr + run.stdout, run.stdout[run.stdout.find("Traceback") - 2000:][:4000]
    document = _parses(run.out)
    assert document["summary"]["failed"] > 0
    text = (run.out / "results.json").read_text(encoding="utf-8")
    assert "\\ud800" in text or "\\udfff" in text, "no lone surrogate reached results.json"
    assert list((run.out / "repro").glob("*.py")), "no reproduction script was written"
    assert_run_shows_no_token(run, (TOKEN, TOKEN2))


def test_merge_writes_its_reports_from_a_results_file_holding_lone_surrogates(tmp_path):
    record = _odd_result().to_json()
    document = build_document(suite_version="0", schemas_sha256="0", server_url="http://127.0.0.1:9",
                              embedded=False, started_ms=0, finished_ms=1, case_results=[record], check_results=[])
    write_document(tmp_path / "results.json", document)
    done = subprocess.run([sys.executable, "-m", "conformance.cli.main", "merge", str(tmp_path / "results.json"),
                           "--out", str(tmp_path / "merged")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    page = (tmp_path / "merged" / "report.html").read_text(encoding="utf-8")
    HTMLParser().feed(page)
    assert "\\ud800" in page   # the lone surrogate, shown as its escape
