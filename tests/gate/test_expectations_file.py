"""The expectations file: reading it (errors with file:line), judging outcomes, writing one from a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.gate import (
    Expectation,
    ExpectationsError,
    apply_to_json,
    dump_expectations,
    expectations_from_results,
    gate_failures,
    judge,
    load_expectations,
)

CASE = "cases/json-input/malformed-json.yaml::truncated-object"
CHECK = "checks/json_content_type::/system/whoami"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expectations.yaml"
    path.write_text(text)
    return path


def test_a_valid_file_loads_by_result_id(tmp_path: Path) -> None:
    path = write(tmp_path, f"""format: dxconform-expectations/1
expectations:
  {CASE}:
    outcome: failed
    reason: accepts a truncated body
    link: https://issues.example.invalid/12
  "{CHECK}": {{outcome: error}}
""")
    assert load_expectations(path) == {
        CASE: Expectation("failed", "accepts a truncated body", "https://issues.example.invalid/12"),
        CHECK: Expectation("error")}


@pytest.mark.parametrize(("body", "line", "words"), [
    ("expectations:\n  a.yaml::b:\n    outcome: broken\n", 4, "'broken' is not one of"),
    ("expectations:\n  a.yaml::b:\n    outcome: failed\n    why: because\n", 5, "unknown key 'why'"),
    ("expectations:\n  not-an-id:\n    outcome: failed\n", 3, "'not-an-id' is not a result id"),
    ("expectations:\n  a.yaml::b: [failed\n", 4, "YAML syntax error"),  # found at the end of the stream
    ("expectations:\n  a.yaml::b:\n    reason: no outcome\n", 3, "'outcome' is a required property"),
])
def test_a_broken_file_names_the_line_of_each_problem(tmp_path: Path, body: str, line: int, words: str) -> None:
    path = write(tmp_path, "format: dxconform-expectations/1\n" + body)
    with pytest.raises(ExpectationsError) as caught:
        load_expectations(path)
    (error,) = caught.value.errors
    assert error.startswith(f"{path}:{line}: ") and words in error, error


def test_a_missing_format_and_a_missing_file_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ExpectationsError, match="'format' is a required property"):
        load_expectations(write(tmp_path, "expectations: {}\n"))
    with pytest.raises(ExpectationsError, match="cannot read the file"):
        load_expectations(tmp_path / "absent.yaml")


@pytest.mark.parametrize(("outcome", "expected", "judged"), [
    ("failed", "failed", "xfailed"),
    ("error", "error", "xfailed"),
    ("error", "failed", "error"),       # another kind of failure than the one known: still fails the gate
    ("failed", "error", "failed"),
    ("passed", "failed", "xpassed"),
    ("unsupported", "failed", "unsupported"),
    ("flaky", "failed", "flaky"),
])
def test_judge_turns_only_the_expected_outcome_into_xfailed(outcome: str, expected: str, judged: str) -> None:
    assert judge(outcome, Expectation(expected)) == judged
    assert judge(outcome, None) == outcome


def test_apply_keeps_the_expectation_and_says_why_the_outcome_changed() -> None:
    result = {"id": CHECK, "outcome": "failed", "message": "text/plain answer", "level": "MUST"}
    judged = apply_to_json(result, {CHECK: Expectation("failed", "known", "https://x.invalid/1")})
    assert judged["outcome"] == "xfailed" and judged["expected"]["reason"] == "known"
    assert judged["message"].startswith("xfailed (expected failed; known; https://x.invalid/1): text/plain")
    assert apply_to_json(result, {}) is result


def results_document() -> dict:
    return {"format": "dxconform-results/2", "server": {"url": "http://127.0.0.1:1"}, "results": [
        {"id": CASE, "outcome": "failed", "level": "MUST", "profile": "core", "message": "status 200,\n expected 400",
         "source": "https://documentation.dnanexus.com/x"},
        {"id": CHECK, "outcome": "error", "level": "SHOULD", "profile": "core", "message": "crashed", "source": ""},
        {"id": "cases/a.yaml::known", "outcome": "xfailed", "level": "MUST", "profile": "core", "message": "m",
         "expected": {"outcome": "failed", "reason": "tracked", "link": "https://x.invalid/2"}},
        {"id": "cases/a.yaml::fine", "outcome": "passed", "level": "MUST", "profile": "core", "message": ""},
        {"id": "cases/a.yaml::flake", "outcome": "flaky", "level": "MUST", "profile": "other", "message": ""},
    ]}


def test_expectations_from_a_run_round_trip_through_the_file(tmp_path: Path) -> None:
    found = expectations_from_results(results_document())
    assert found == {CASE: Expectation("failed", "status 200, expected 400", "https://documentation.dnanexus.com/x"),
                     CHECK: Expectation("error", "crashed"),
                     "cases/a.yaml::known": Expectation("failed", "tracked", "https://x.invalid/2")}
    assert set(expectations_from_results(results_document(), ["MUST"])) == {CASE, "cases/a.yaml::known"}
    path = write(tmp_path, dump_expectations(found, "http://127.0.0.1:1"))
    assert load_expectations(path) == found


def test_the_gate_fails_on_unexpected_must_failures_and_on_flaky_only_when_asked() -> None:
    document = results_document()
    assert [r["id"] for r in gate_failures(document)] == [CASE]
    assert [r["id"] for r in gate_failures(document, flaky_fails=True)] == [CASE, "cases/a.yaml::flake"]
    assert [r["id"] for r in gate_failures(document, flaky_fails=True, profiles={"other"})] == [
        "cases/a.yaml::flake"]
    document["results"][0]["outcome"] = "xfailed"
    assert gate_failures(document) == []
