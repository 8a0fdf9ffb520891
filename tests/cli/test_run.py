"""`dxconform run`: embedded server runs, exit codes, the three output files, faults, -n 2, unreachable server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.refserver.context import TOKEN_PREFIX

from ..pytest_plugin.support import TINY_CASES, assert_valid_results

# Every token of the embedded server starts with it: no output file may hold one.
EMBEDDED_TOKEN_PREFIX = TOKEN_PREFIX


def dxconform_run(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", "run", "--cases", str(TINY_CASES),
                           "--out", str(tmp_path / "out"), *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=timeout)


def outputs(tmp_path: Path) -> dict[str, Path]:
    out = tmp_path / "out"
    return {name: out / name for name in ("results.json", "junit.xml", "report.html")}


def assert_no_token_in(files) -> None:
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert EMBEDDED_TOKEN_PREFIX not in text, f"an embedded server's token in {path}"


def test_embedded_run_passes_and_writes_three_clean_files(tmp_path: Path) -> None:
    proc = dxconform_run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    files = outputs(tmp_path)
    assert all(path.is_file() for path in files.values())
    document = json.loads(files["results.json"].read_text())
    assert_valid_results(document)
    assert document["server"]["embedded"] is True
    assert document["summary"]["failed"] == 0 and document["summary"]["unsupported"] == 1
    assert {r["area"] for r in document["results"] if r["kind"] == "case"} == {
        "url-forms", "json-input", "json-output", "data-types", "auth", "semantics"}
    assert_no_token_in(files.values())
    # progress, then the summary by area and the paths of the three files
    assert "[100%]" in proc.stdout and "cases by area" in proc.stdout
    for path in files.values():
        assert str(path) in proc.stdout


def test_report_html_is_one_self_contained_file(tmp_path: Path) -> None:
    proc = dxconform_run(tmp_path, "--embedded-fault", "accepts-invalid-json")
    assert proc.returncode == 1
    html = outputs(tmp_path)["report.html"].read_text()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["badges", "junit.xml", "report.html", "repro",
                                                                    "results.json"]
    # resources the page would load: scripts, styles, images, frames (plain <a> links are not loads)
    loads = re.findall(r"<(?:script|link|img|source|iframe|video|audio)\b[^>]*?(?:src|href)=\"([^\"]*)\"", html)
    assert all(url == "" or url.startswith("data:") for url in loads), loads
    assert "dxconform: DNAnexus API conformance" in html and "dx-areas-table" in html
    assert "schemas sha256" in html and "Server under test" in html
    # the failure's evidence with a curl command that reads the token from the environment
    assert "$DX_TOKEN" in html and "malformed-json" in html
    assert_no_token_in(outputs(tmp_path).values())


@pytest.mark.parametrize(("fault", "case"), [("accepts-invalid-json", "malformed-json"),
                                             ("ignores-token", "no-token")])
def test_a_fault_of_the_embedded_server_makes_the_run_fail(tmp_path: Path, fault: str, case: str) -> None:
    proc = dxconform_run(tmp_path, "--embedded-fault", fault)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    document = json.loads(outputs(tmp_path)["results.json"].read_text())
    failed = {r["id"] for r in document["results"] if r["outcome"] == "failed"}
    assert f"cases/tiny.yaml::{case}" in failed


def test_a_route_that_hangs_ends_as_an_error_within_the_timeout(tmp_path: Path) -> None:
    proc = dxconform_run(tmp_path, "--embedded-fault", "hangs-on-whoami", "--timeout", "1", "-k", "whoami")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    document = json.loads(outputs(tmp_path)["results.json"].read_text())
    (result,) = [r for r in document["results"] if r["kind"] == "case"]
    assert result["outcome"] == "error" and result["duration_ms"] < 10_000
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_parallel_workers(tmp_path: Path) -> None:
    proc = dxconform_run(tmp_path, "-n", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert "2 workers" in proc.stdout
    document = json.loads(outputs(tmp_path)["results.json"].read_text())
    assert document["summary"]["passed"] > 6
    assert_no_token_in(outputs(tmp_path).values())


@pytest.mark.parametrize(("args", "says"), [
    (["--server", "http://127.0.0.1:9", "--token", "a-token-of-no-server"],
     "cannot connect to 127.0.0.1:9: connection refused"),
    (["--server", "ftp://example.invalid", "--token", "a-token-of-no-server"], "must be an http:// or https:// URL"),
    (["--server", "http://127.0.0.1:9"], "needs --token"),
    (["--fuzz-examples", "-1"], "--fuzz-examples must be >= 0"),
    (["--embedded-fault", "no-such-fault"], "unknown fault"),
    (["-k", "no-case-has-this-name"], "no case matched"),
])
def test_usage_problems_exit_2_in_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    proc = dxconform_run(tmp_path, *args)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert says in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_broken_case_files_exit_2_naming_file_and_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "bad.yaml").write_text("cases:\n  - id: x\n    title: t\n    levle: MUST\n    steps: []\n")
    proc = subprocess.run([sys.executable, "-m", "conformance.cli.main", "run", "--cases", str(cases),
                           "--out", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert re.search(r"cases/bad\.yaml:\d+: ", proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
