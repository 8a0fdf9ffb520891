"""FLAKY: a case that fails once and passes on a rerun is `flaky` (each attempt recorded), not a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from .flaky_server import flaky_server
from .support import assert_no_token_in, results, tiny_run

CASE = "cases/tiny.yaml::project-keeps-its-name"   # its one describe is what the server fails first


@pytest.fixture(scope="module")
def server():
    with flaky_server() as running:
        yield running


def run_against(server, tmp_path: Path, *args: str):
    url, _, tokens = server
    return tiny_run(tmp_path, tmp_path / "out", "--server", url, "--token", tokens["alice"],
                    "--token2", tokens["bob"], "-k", "project-keeps-its-name", *args)


def case_result(tmp_path: Path) -> dict:
    (result,) = [r for r in results(tmp_path / "out")["results"] if r["id"] == CASE]
    return result


def test_a_pass_on_a_rerun_is_flaky_and_keeps_every_attempt(server, tmp_path: Path) -> None:
    server[1].arm(1)
    run = run_against(server, tmp_path, "--reruns", "2")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    assert server[1].failed == 1
    result = case_result(tmp_path)
    assert result["outcome"] == "flaky" and result["message"].startswith("flaky: passed on attempt 2 of 2")
    first, second = result["attempts"]
    assert first["outcome"] == "failed" and "status 503" in first["message"]
    assert any(e["response"]["status"] == 503 for e in first["exchanges"])
    assert second == {"attempt": 2, "outcome": "passed", "message": "", "duration_ms": second["duration_ms"]}
    summary = results(tmp_path / "out")["summary"]
    assert summary["flaky"] == 1 and summary["failed"] == 0
    assert "flaky: 1 result(s) failed, then passed on a rerun" in run.stdout and CASE in run.stdout
    assert_no_token_in((tmp_path / "out").iterdir())


def test_flaky_fails_the_gate_when_asked(server, tmp_path: Path) -> None:
    server[1].arm(1)
    run = run_against(server, tmp_path, "--reruns", "2", "--flaky-fails")
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr
    assert case_result(tmp_path)["outcome"] == "flaky"


def test_a_case_that_fails_every_attempt_stays_failed(server, tmp_path: Path) -> None:
    server[1].arm(3)
    run = run_against(server, tmp_path, "--reruns", "2")
    assert run.returncode == 1
    result = case_result(tmp_path)
    assert server[1].failed == 3 and result["outcome"] == "failed"
    assert [a["outcome"] for a in result["attempts"]] == ["failed"] * 3
    assert "(the same in all 3 attempts)" in result["message"]


def test_without_reruns_the_first_failure_stands(server, tmp_path: Path) -> None:
    server[1].arm(1)
    run = run_against(server, tmp_path, "--reruns", "0")
    assert run.returncode == 1
    result = case_result(tmp_path)
    assert result["outcome"] == "failed" and "attempts" not in result and server[1].failed == 1
