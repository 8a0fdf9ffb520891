"""junit.xml from `dxconform run`, `diff` and `merge` parses even when a message holds control characters.

Here \\x01 and \\x1b (characters XML forbids even escaped) come from a server's error messages and from a
recording's step names.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conformance.refserver.context import FIXED_TOKENS, Settings
from conformance.refserver.server import RefServer

CONTROL = "\x01\x1b"
CASES = """
defaults: {area: json-input, topic: bodies, level: MUST, source: tests/cli}
cases:
  - id: whoami-answers
    title: whoami answers
    steps:
      - route: /system/whoami
  - id: not-json-taken-as-ok
    title: deliberately wrong, a body that is not JSON expected to succeed
    steps:
      - route: /system/whoami
        raw: '{"unterminated": '
        skip_checks: [no_server_error]
        expect: {status: 200}
"""


def dxconform(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


class ControlCharacters(BaseHTTPRequestHandler):
    """Forwards every request to the reference server and adds control characters to each error message."""

    protocol_version = "HTTP/1.1"
    upstream = ""

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        connection.request(self.command, self.path, body=body, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            parsed["error"]["message"] = f"{parsed['error'].get('message')} {CONTROL}"
            data = json.dumps(parsed).encode()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        connection.close()

    do_POST = do_GET = do_PUT = do_OPTIONS = _forward

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def control_server() -> Iterator[str]:
    with RefServer(settings=Settings(users=dict(FIXED_TOKENS))) as upstream:
        handler = type("Handler", (ControlCharacters,), {"upstream": upstream.url})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def cases_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("control") / "cases"
    directory.mkdir()
    (directory / "cc.yaml").write_text(CASES)
    return directory


def junit_messages(path: Path) -> list[str]:
    """Every failure and error message of a junit.xml, which must parse."""
    tree = ET.parse(path)
    return [element.get("message", "") + (element.text or "") for element in tree.iter()
            if element.tag in ("failure", "error")]


@pytest.fixture(scope="module")
def run_out(control_server: str, cases_dir: Path) -> Path:
    out = cases_dir.parent / "run"
    done = dxconform("run", "--server", control_server, "--token", "alice-token", "--cases", str(cases_dir),
                     "--out", str(out), "--reruns", "0", cwd=cases_dir.parent)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    return out


def test_run_writes_parseable_junit_for_a_message_with_control_characters(run_out: Path) -> None:
    document = json.loads((run_out / "results.json").read_text())
    (failed,) = [r for r in document["results"] if r["outcome"] == "failed" and r["kind"] == "case"]
    assert CONTROL in failed["message"]          # the message really holds them
    messages = junit_messages(run_out / "junit.xml")
    assert any("\ufffd\ufffd" in m and "MalformedJSON" in m for m in messages)
    assert not any(c in m for m in messages for c in CONTROL)


def test_merge_writes_parseable_junit_for_a_message_with_control_characters(run_out: Path, tmp_path: Path) -> None:
    done = dxconform("merge", str(run_out / "results.json"), "--out", str(tmp_path / "merged"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    assert any(CONTROL in r["message"] for r in merged["results"])
    assert any("\ufffd\ufffd" in m for m in junit_messages(tmp_path / "merged" / "junit.xml"))


def test_diff_writes_parseable_junit_for_a_message_with_control_characters(cases_dir: Path, tmp_path: Path) -> None:
    golden = tmp_path / "golden.json"
    done = dxconform("record", "--cases", str(cases_dir), "--case", "cc.yaml::whoami-answers", "--out", str(golden),
                     cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    recording = json.loads(golden.read_text())
    (case,) = recording["cases"]
    case["steps"][0]["step"] += CONTROL           # a step the candidate does not have, named with them
    golden.write_text(json.dumps(recording))
    done = dxconform("diff", "--golden", str(golden), "--cases", str(cases_dir), "--out", str(tmp_path / "diff"),
                     cwd=tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    document = json.loads((tmp_path / "diff" / "results.json").read_text())
    assert any(CONTROL in r["message"] for r in document["results"])
    assert any("\ufffd\ufffd" in m for m in junit_messages(tmp_path / "diff" / "junit.xml"))
