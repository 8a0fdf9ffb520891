"""`dxconform proxy` and `dxconform validate` from the command line: outputs, exit codes, stopping."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from conformance.cli.main import main

from .conftest import proxied

LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:\d+)$")


def recorded_har(tmp_path, *, malformed: bool):
    with proxied() as (server, proxy):
        requests.post(proxy.url + "/system/whoami", data=b"{" if malformed else b"{}",
                      headers={"Authorization": "Bearer alice-token"}, timeout=30)
    _, files = proxy.finish(tmp_path / "recorded")
    return files["har"]


def test_validate_exit_codes(tmp_path, capsys):
    clean, dirty = recorded_har(tmp_path / "a", malformed=False), recorded_har(tmp_path / "b", malformed=True)
    assert main(["validate", str(clean), "--out", str(tmp_path / "ok")]) == 0
    assert main(["validate", str(clean), str(dirty), "--out", str(tmp_path / "bad")]) == 1
    printed = capsys.readouterr().out
    assert "client MUST   request_json /system/whoami" in printed
    document = json.loads((tmp_path / "bad" / "results.json").read_text())
    assert document["format"] == "dxconform-results/2" and document["traffic"]["api"] == 2
    assert (tmp_path / "bad" / "report.html").read_text().count("request_json") >= 1
    (tmp_path / "junk.har").write_text("{}")
    assert main(["validate", str(tmp_path / "junk.har"), "--out", str(tmp_path / "junk")]) == 2
    assert capsys.readouterr().err.strip().endswith("not a HAR file (no log.entries)")


def test_proxy_usage_errors(refserver, capsys):
    assert main(["proxy", "--upstream", "ftp://x", "--listen", "127.0.0.1:0"]) == 2
    assert main(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "nowhere"]) == 2
    # Nothing listens on port 9 of loopback (discard): the upstream is unreachable.
    assert main(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "127.0.0.1:0"]) == 2
    # The reference server already holds its port.
    assert main(["proxy", "--upstream", refserver.url, "--listen", f"127.0.0.1:{refserver.port}"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4 and "cannot reach the upstream" in errors[2] and "cannot listen on" in errors[3]


def start_proxy(upstream: str, out, *extra: str) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "conformance.cli.main", "proxy", "--upstream", upstream,
               "--listen", "127.0.0.1:0", "--out", str(out), *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    match = LISTENING.match(line)
    if not match:
        process.kill()
        pytest.fail(f"no 'listening on' line: {line!r} {process.stderr.read()[:500]}")
    return process, match.group(1)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stop", ["duration", "sigint"])
def test_proxy_writes_its_outputs_when_stopped(refserver, tmp_path, stop):
    extra = ("--duration", "3") if stop == "duration" else ()
    process, url = start_proxy(refserver.url, tmp_path, *extra)
    answer = requests.post(url + "/system/whoami", data=b"[]", headers={"Authorization": f"Bearer {refserver.token()}"},
                           timeout=30)
    assert answer.status_code == 422
    if stop == "sigint":
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1, (out, err)
    assert "client MUST   request_mapping /system/whoami" in out and "Traceback" not in err
    assert {p.name for p in tmp_path.iterdir()} >= {"results.json", "report.html", "exchanges.har"}
    har = json.loads((tmp_path / "exchanges.har").read_text())
    assert [e["request"]["postData"]["text"] for e in har["log"]["entries"]] == ["[]"]
