"""Cases run as pytest items against the reference server: outcomes, results.json, junit, failure text, -n."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .support import TINY_CASES, assert_valid_results, run_pytest

TOKENS = {"DXCONFORM_TOKEN": "alice-token", "DXCONFORM_TOKEN2": "bob-token"}


def run_tiny(refserver, tmp_path: Path, *extra: str) -> tuple:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "out"
    proc = run_pytest([str(TINY_CASES), "--rootdir", str(TINY_CASES.parent), "--dx-server", refserver.url,
                       "--dx-out", str(out), "--junitxml", str(out / "junit.xml"), *extra], tmp_path, TOKENS)
    document = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else None
    return proc, document, out


def cases_of(document: dict) -> dict[str, dict]:
    return {r["id"]: r for r in document["results"] if r["kind"] == "case"}


def test_tiny_suite_passes_and_optional_profile_is_unsupported(refserver, tmp_path: Path) -> None:
    proc, document, out = run_tiny(refserver, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert_valid_results(document)
    cases = cases_of(document)
    assert cases["cases/tiny.yaml::dbcluster-new-optional"]["outcome"] == "unsupported"
    assert {r["outcome"] for i, r in cases.items() if "dbcluster" not in i} == {"passed"}
    assert document["summary"]["unsupported"] == 1 and document["summary"]["skipped"] == 0
    assert document["server"] == {"url": refserver.url, "embedded": False}
    checks = [r for r in document["results"] if r["kind"] == "check"]
    assert checks and all(r["id"].startswith("checks/") for r in checks)
    # the summary by area is printed after pytest's own lines
    assert "cases by area" in proc.stdout and "auth" in proc.stdout


def test_junit_carries_area_level_and_route_properties(refserver, tmp_path: Path) -> None:
    proc, _, out = run_tiny(refserver, tmp_path, "-k", "no_token or no-token")
    tree = ET.parse(out / "junit.xml")
    case = next(tc for tc in tree.iter("testcase") if tc.get("name") == "no-token")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties == {"area": "auth", "level": "MUST", "profile": "core", "route": "/system/whoami"}


def test_a_failed_case_shows_message_step_and_exchange_without_traceback(refserver, tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "wrong.yaml").write_text(
        "cases:\n"
        "  - id: whoami-is-teapot\n"
        "    title: deliberately wrong expectation\n"
        "    area: semantics\n    topic: demo\n    level: MUST\n    source: test\n"
        "    steps:\n"
        "      - route: /system/whoami\n"
        "        expect: {values: {$.id: user-nobody}}\n")
    out = tmp_path / "out"
    proc = run_pytest([str(cases), "--rootdir", str(tmp_path), "--dx-server", refserver.url, "--dx-out", str(out)],
                      tmp_path, TOKENS)
    assert proc.returncode == 1
    text = proc.stdout
    assert "cases/wrong.yaml::whoami-is-teapot" in text
    assert "step 1 POST /system/whoami (cases/wrong.yaml:" in text     # the failing step, with its line
    assert "$.id" in text and "user-nobody" in text and "user-alice" in text   # expected vs actual
    assert "exchange: POST /system/whoami -> 200" in text
    assert "Traceback" not in text and "alice-token" not in text
    document = json.loads((out / "results.json").read_text())
    assert cases_of(document)["cases/wrong.yaml::whoami-is-teapot"]["outcome"] == "failed"


def test_a_case_that_gets_no_answer_is_an_error(tmp_path: Path) -> None:
    # Nothing listens on port 9 (discard): every call fails at the transport.
    proc = run_pytest([str(TINY_CASES), "--rootdir", str(TINY_CASES.parent), "--dx-server", "http://127.0.0.1:9",
                       "--dx-out", str(tmp_path / "out"), "-k", "whoami", "--dx-timeout", "2"], tmp_path, TOKENS)
    assert proc.returncode == 1
    assert "1 error" in proc.stdout
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    (result,) = cases_of(document).values()
    assert result["outcome"] == "error" and "no answer" in result["message"]


@pytest.mark.slow
def test_xdist_workers_give_the_same_results(refserver, tmp_path: Path) -> None:
    serial_proc, serial, _ = run_tiny(refserver, tmp_path / "serial")
    proc, parallel, _ = run_tiny(refserver, tmp_path / "parallel", "-n", "2")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "2 workers" in proc.stdout
    assert_valid_results(parallel)
    outcomes = {i: r["outcome"] for i, r in cases_of(parallel).items()}
    assert outcomes == {i: r["outcome"] for i, r in cases_of(serial).items()}
    # the workers' check ledgers are merged: the same (check, route) pairs, with every exchange counted
    check_ids = {r["id"] for r in parallel["results"] if r["kind"] == "check"}
    assert check_ids == {r["id"] for r in serial["results"] if r["kind"] == "check"}
