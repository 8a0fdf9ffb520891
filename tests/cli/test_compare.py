"""`dxconform compare` on three runs (a clean server, two broken variants): the matrix cells, and the two-run diff
listing exactly the injected regressions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..reporting.support import EMBEDDED_TOKENS, Cells, dxconform, run_tiny

# fault -> the tiny suite's case it breaks, and that case's area
INJECTED = {"accepts-invalid-json": ("cases/tiny.yaml::malformed-json", "json-input"),
            "ignores-token": ("cases/tiny.yaml::no-token", "auth")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("compare")
    return {"clean": run_tiny(base, "clean") / "results.json",
            "badjson": run_tiny(base, "badjson", "accepts-invalid-json") / "results.json",
            "notoken": run_tiny(base, "notoken", "ignores-token") / "results.json"}


def test_three_runs_show_each_broken_area_in_its_own_column(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "matrix.html"
    proc = dxconform("compare", str(runs["clean"]), str(runs["badjson"]), str(runs["notoken"]), "--out", str(out),
                     "--json", str(tmp_path / "matrix.json"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = out.read_text()
    page = Cells(html)
    # columns in file order, named after the run directories
    assert "<th>clean</th><th>badjson</th><th>notoken</th>" in html

    def verdicts(row: str) -> list[str]:
        return [cell["data-verdict"] for _, cell, _ in page.cells if cell.get("data-row") == row]

    assert verdicts("area:json-input") == ["pass", "fail", "pass"]
    assert verdicts("area:auth") == ["pass", "pass", "fail"]
    assert verdicts("area:semantics") == ["pass", "pass", "pass"]
    assert verdicts("profile:core MUST") == ["pass", "fail", "fail"]
    assert verdicts("route:/system/whoami") == ["pass", "fail", "fail"]
    assert verdicts("route:/file-xxxx/close") == ["not run"] * 3
    assert len({row for r, _, _ in page.cells if (row := r.get("data-row", "")).startswith("route:")}) == 208
    # three runs: no diff section
    assert "dx-regressions" not in page.by_id
    data = json.loads((tmp_path / "matrix.json").read_text())
    assert data["format"] == "dxconform-compare/1" and data["diff"] is None
    assert [run["label"] for run in data["runs"]] == ["clean", "badjson", "notoken"]
    assert [cell["verdict"] for cell in data["areas"]["json-input"]] == ["pass", "fail", "pass"]


@pytest.mark.parametrize("fault", sorted(INJECTED))
def test_two_runs_diff_lists_exactly_the_injected_regressions(runs: dict[str, Path], tmp_path: Path,
                                                              fault: str) -> None:
    broken = runs["badjson" if fault == "accepts-invalid-json" else "notoken"]
    case_id, _ = INJECTED[fault]
    injected = {r["id"] for r in json.loads(broken.read_text())["results"] if r["outcome"] == "failed"}
    assert case_id in injected
    out = tmp_path / "diff.html"
    proc = dxconform("compare", str(runs["clean"]), str(broken), "--out", str(out), "--json",
                     str(tmp_path / "diff.json"), "--fail-on-regression", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    diff = json.loads((tmp_path / "diff.json").read_text())["diff"]
    assert {c["id"] for c in diff["regressions"]} == injected
    assert all(c["before"] == "passed" and c["after"] == "failed" for c in diff["regressions"])
    assert diff["fixes"] == [] and diff["new_failures"] == [] and diff["gone"] == []
    page = Cells(out.read_text())
    assert page.by_id["dx-regressions"] == f"Regressions ({len(injected)})"
    assert {row["data-id"] for row, _, _ in page.cells if "data-id" in row} == injected   # no other change
    assert f"regression: {case_id}" in proc.stdout
    # the other way round, the same results are fixes
    back = dxconform("compare", str(broken), str(runs["clean"]), "--out", str(tmp_path / "back.html"), "--json",
                     str(tmp_path / "back.json"), "--fail-on-regression", cwd=tmp_path)
    assert back.returncode == 0, back.stdout + back.stderr
    reverse = json.loads((tmp_path / "back.json").read_text())["diff"]
    assert {c["id"] for c in reverse["fixes"]} == injected and reverse["regressions"] == []


def test_compare_outputs_hold_no_token(runs: dict[str, Path], tmp_path: Path) -> None:
    proc = dxconform("compare", *map(str, runs.values()), "--out", str(tmp_path / "m.html"), "--json",
                     str(tmp_path / "m.json"), cwd=tmp_path)
    assert proc.returncode == 0
    for path in (tmp_path / "m.html", tmp_path / "m.json"):
        text = path.read_text()
        assert not any(token in text for token in EMBEDDED_TOKENS), path


def test_unreadable_input_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "not-results.json").write_text('{"format": "something else"}')
    for args in (["compare", str(tmp_path / "missing.json")], ["compare", str(tmp_path / "not-results.json")],
                 ["compare", str(tmp_path / "not-results.json"), "--label", "a", "--label", "b"]):
        proc = dxconform(*args, "--out", str(tmp_path / "m.html"), cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stderr.startswith("dxconform: error:") and "Traceback" not in proc.stderr
        assert not (tmp_path / "m.html").exists()
