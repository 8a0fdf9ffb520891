"""The CI gate end to end: a broken variant's failures written as expectations pass the gate; one more fails it."""

from __future__ import annotations

from pathlib import Path

import yaml

from .support import assert_no_token_in, dxconform, outcomes, results, tiny_run

KNOWN_FAULT, NEW_FAULT = "accepts-invalid-json", "ignores-token"
KNOWN_CASE, NEW_CASE = "cases/tiny.yaml::malformed-json", "cases/tiny.yaml::no-token"


def test_known_failures_pass_the_gate_and_one_more_regression_fails_it(tmp_path: Path) -> None:
    broken = tiny_run(tmp_path, tmp_path / "broken", "--embedded-fault", KNOWN_FAULT, "--reruns", "0")
    assert broken.returncode == 1, broken.stdout[-2000:] + broken.stderr
    assert outcomes(tmp_path / "broken")[KNOWN_CASE] == "failed"

    written = dxconform(tmp_path, "expectations", str(tmp_path / "broken" / "results.json"),
                        "--out", str(tmp_path / "expected.yaml"))
    assert written.returncode == 0, written.stderr
    listed = yaml.safe_load((tmp_path / "expected.yaml").read_text())["expectations"]
    assert listed == {KNOWN_CASE: listed[KNOWN_CASE]} and listed[KNOWN_CASE]["outcome"] == "failed"

    gated = tiny_run(tmp_path, tmp_path / "gated", "--embedded-fault", KNOWN_FAULT,
                     "--expectations", str(tmp_path / "expected.yaml"))
    assert gated.returncode == 0, gated.stdout[-2000:] + gated.stderr
    document = results(tmp_path / "gated")
    assert document["summary"]["xfailed"] == 1 and document["summary"]["failed"] == 0
    (known,) = [r for r in document["results"] if r["id"] == KNOWN_CASE]
    assert known["outcome"] == "xfailed" and known["expected"]["outcome"] == "failed"
    assert "1 xfailed" in gated.stdout and "1 known failure(s) xfailed" in gated.stdout
    assert 'type="pytest.xfail"' in (tmp_path / "gated" / "junit.xml").read_text()

    regressed = tiny_run(tmp_path, tmp_path / "regressed", "--embedded-fault", KNOWN_FAULT,
                         "--embedded-fault", NEW_FAULT, "--expectations", str(tmp_path / "expected.yaml"))
    assert regressed.returncode == 1, regressed.stdout[-2000:] + regressed.stderr
    found = outcomes(tmp_path / "regressed")
    assert found[KNOWN_CASE] == "xfailed" and found[NEW_CASE] == "failed"
    for out in ("broken", "gated", "regressed"):
        assert_no_token_in((tmp_path / out).iterdir())
    assert_no_token_in([tmp_path / "expected.yaml"])


def test_a_listed_failure_that_passes_is_xpassed_and_does_not_fail_the_gate(tmp_path: Path) -> None:
    (tmp_path / "expected.yaml").write_text(
        f"format: dxconform-expectations/1\nexpectations:\n  {KNOWN_CASE}: {{outcome: failed, reason: old bug}}\n"
        "  cases/tiny.yaml::gone-case: {outcome: failed}\n")
    run = tiny_run(tmp_path, tmp_path / "out", "--expectations", str(tmp_path / "expected.yaml"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    assert outcomes(tmp_path / "out")[KNOWN_CASE] == "xpassed"
    assert results(tmp_path / "out")["summary"]["xpassed"] == 1
    assert "xpassed: listed as failing but passed" in run.stdout and KNOWN_CASE in run.stdout
    assert "1 expectation(s) match no result of this run" in run.stdout


def test_a_broken_expectations_file_stops_the_run_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "expected.yaml"
    path.write_text(f"format: dxconform-expectations/1\nexpectations:\n  {KNOWN_CASE}:\n    outcome: maybe\n")
    run = tiny_run(tmp_path, tmp_path / "out", "--expectations", str(path))
    assert run.returncode == 2
    assert f"{path}:4: " in run.stderr and "'maybe' is not one of" in run.stderr
    assert "problem(s) in the expectations file" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_the_expectations_command_refuses_what_is_not_a_results_file(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text('{"format": "something-else"}')
    proc = dxconform(tmp_path, "expectations", str(tmp_path / "other.json"), "--out", str(tmp_path / "e.yaml"))
    assert proc.returncode == 2 and "is not a dxconform-results/2 document" in proc.stderr
    assert not (tmp_path / "e.yaml").exists()
