"""The curl and dxpy commands of report.html replay the recorded request: run against the reference server, they
get the answer the suite got; neither holds the token."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conformance.engine.transport import Transport
from conformance.reporting.repro import curl_command, dxpy_snippet

# (path, how to call it) -> what the recorded answer was
CALLS = {
    "whoami": ("/system/whoami", {"user": "alice"}),
    "malformed": ("/system/whoami", {"user": "alice", "raw_body": '{"unterminated": '}),
    "no-token": ("/system/whoami", {"user": None}),
    "absent-file": ("/file-B0000000000000000000000Q/addTags", {"user": "alice",
                                                               "json_body": {"project": "project-B0000000000000000000000Q",
                                                                             "tags": ["t"]}}),
    "odd-json": ("/system/findProjects", {"user": "alice", "raw_body": '{"limit":1,  "name": "x"}'}),
}


@pytest.fixture()
def recorded(refserver) -> dict:
    with Transport(refserver.url, {"alice": refserver.token("alice")}) as transport:
        return {name: transport.call(path, **how).to_json() for name, (path, how) in CALLS.items()}


def replay_env(refserver) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DX_", "DXCONFORM_"))}
    env["DX_TOKEN"] = refserver.token("alice")
    return env


def answer_of(exchange: dict) -> str:
    """What the snippet prints for the recorded answer: the JSON body, or `code type message`."""
    body = json.loads(exchange["response"]["body"])
    if exchange["response"]["status"] == 200:
        return repr(body)
    return f"{exchange['response']['status']} {body['error']['type']} {body['error']['message']}"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_dxpy_snippet_gets_the_recorded_answer(refserver, recorded, tmp_path, name: str) -> None:
    exchange = recorded[name]
    snippet = dxpy_snippet(exchange["request"])
    assert refserver.token("alice") not in snippet
    env = replay_env(refserver)
    env["DX_USER_CONF_DIR"] = str(tmp_path)   # not the user's ~/.dnanexus_config
    proc = subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, snippet + "\n" + proc.stderr[-2000:]
    assert proc.stdout.strip() == answer_of(exchange), snippet


def test_snippet_sends_odd_bodies_as_their_exact_text(recorded) -> None:
    odd = dxpy_snippet(recorded["odd-json"]["request"])
    assert "jsonify_data=False" in odd and repr('{"limit":1,  "name": "x"}') in odd
    plain = dxpy_snippet(recorded["whoami"]["request"])
    assert "jsonify_data" not in plain and "DXHTTPRequest('/system/whoami', {}," in plain
    assert "auth=None" in dxpy_snippet(recorded["no-token"]["request"])


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl on PATH")
@pytest.mark.parametrize("name", ["whoami", "malformed", "no-token", "absent-file"])
def test_curl_command_gets_the_recorded_status(refserver, recorded, name: str) -> None:
    exchange = recorded[name]
    command = curl_command(exchange["request"])
    assert refserver.token("alice") not in command
    proc = subprocess.run(["bash", "-c", command], env=replay_env(refserver), capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.startswith(f"HTTP/1.1 {exchange['response']['status']} "), proc.stdout[:300]
    assert proc.stdout.rstrip().endswith(exchange["response"]["body"])
