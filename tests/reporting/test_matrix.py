"""The comparison of runs: matrix cells per run, and how each change of outcome is classified."""

from __future__ import annotations

import json

import pytest

from conformance.reporting.matrix import Run, build_matrix, compare_json, diff_runs, load_runs
from conformance.reporting.matrix_page import matrix_page

from .support import Cells
from .test_report_page import Outcome, document, result


def run(label: str, *outcomes: tuple[str, Outcome]) -> Run:
    return Run(label, f"{label}.json", document(*(result(i, o) for i, o in outcomes)))


def test_changes_are_classified_by_what_they_mean() -> None:
    before = run("a", ("kept", Outcome.PASSED), ("broke", Outcome.PASSED), ("fixed", Outcome.FAILED),
                 ("was-unsupported", Outcome.UNSUPPORTED), ("dropped", Outcome.PASSED), ("known", Outcome.XFAILED),
                 ("now-unsupported", Outcome.PASSED), ("errs", Outcome.FLAKY))
    after = run("b", ("kept", Outcome.PASSED), ("broke", Outcome.FAILED), ("fixed", Outcome.PASSED),
                ("was-unsupported", Outcome.FAILED), ("new", Outcome.ERROR), ("known", Outcome.FAILED),
                ("now-unsupported", Outcome.UNSUPPORTED), ("errs", Outcome.ERROR))
    diff = diff_runs(before, after)
    assert [c.id for c in diff.regressions] == ["broke", "errs"]
    assert [c.id for c in diff.fixes] == ["fixed"]
    assert [c.id for c in diff.new_failures] == ["known", "new", "was-unsupported"]
    assert [(c.id, c.after) for c in diff.gone] == [("dropped", None)]
    assert [(c.id, c.before, c.after) for c in diff.other] == [("now-unsupported", "passed", "unsupported")]


def test_matrix_cells_follow_each_run() -> None:
    runs = [run("clean", ("x", Outcome.PASSED)), run("broken", ("x", Outcome.FAILED)),
            run("absent", ("y", Outcome.UNSUPPORTED))]
    matrix = build_matrix(runs, ["/system/whoami", "/file-xxxx/close"])
    assert [c.verdict for c in matrix.routes["/system/whoami"]] == ["pass", "fail", "unsupported"]
    assert [c.verdict for c in matrix.routes["/file-xxxx/close"]] == ["not run"] * 3
    assert [c.verdict for c in matrix.headline["core MUST"]] == ["pass", "fail", "unsupported"]
    page = Cells(matrix_page(matrix, None))
    assert [cell["data-verdict"] for _, cell, _ in page.cells if cell.get("data-row") == "area:semantics"] == [
        "pass", "fail", "unsupported"]
    data = compare_json(matrix, None)
    assert data["areas"]["semantics"][1] == {"verdict": "fail", "score": "0%", "counts": data["areas"][
        "semantics"][1]["counts"]} and data["areas"]["semantics"][1]["counts"]["failed"] == 1


def test_runs_are_labelled_from_their_files(tmp_path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(document(result("x", Outcome.PASSED))))
    (tmp_path / "server-c.json").write_text(json.dumps(document(result("x", Outcome.PASSED))))
    paths = [tmp_path / "a" / "results.json", tmp_path / "b" / "results.json", tmp_path / "server-c.json",
             tmp_path / "a" / "results.json"]
    assert [r.label for r in load_runs(paths)] == ["a", "b", "server-c", "a (2)"]
    assert [r.label for r in load_runs(paths[:2], ["old", "new"])] == ["old", "new"]
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(ValueError):
        load_runs([tmp_path / "bad.json"])
