"""`--add-cases DIR` runs more case files besides the shipped suite, `--cases DIR` instead of it; an added case
may not take an id the run already has, and a certificate takes neither option without --partial."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "cases"
ADDED = "added-tag-shows-then-goes"
SHIPPED = "cases/semantics/metadata/tags-types.yaml::tags-keep-insertion-order"


def dxconform(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture()
def my_cases(tmp_path: Path) -> Path:
    """The worked example of docs/write-a-case.md, saved outside the checkout as a reader would."""
    target = tmp_path / "my-cases"
    shutil.copytree(EXAMPLE, target)
    return target


def case_outcomes(out: Path) -> dict[str, str]:
    document = json.loads((out / "results.json").read_text())
    return {r["id"]: r["outcome"] for r in document["results"] if r["kind"] == "case"}


def test_both_options_are_in_the_help(tmp_path: Path):
    done = dxconform(tmp_path, "run", "--help")
    assert "--add-cases DIR" in done.stdout and "--cases DIR" in done.stdout


def test_added_cases_run_besides_the_suite(tmp_path: Path, my_cases: Path):
    done = dxconform(tmp_path, "run", "--add-cases", "my-cases", "--out", "out",
                     "-k", f"{ADDED} or tags-types.yaml and tags-keep-insertion-order")
    assert done.returncode == 0, done.stderr
    added = f"{my_cases / 'semantics' / 'record-tags.yaml'}::{ADDED}"
    assert case_outcomes(tmp_path / "out") == {SHIPPED: "passed", added: "passed"}


def test_cases_replaces_the_suite(tmp_path: Path, my_cases: Path):
    done = dxconform(tmp_path, "run", "--cases", "my-cases", "--out", "out")
    assert done.returncode == 0, done.stderr
    assert sorted(case_outcomes(tmp_path / "out")) == [f"my-cases/semantics/record-tags.yaml::{ADDED}",
                                                       "my-cases/semantics/record-tags.yaml::tags-must-be-strings"]


def test_an_added_case_may_not_take_a_shipped_id(tmp_path: Path, my_cases: Path):
    mine = my_cases / "semantics" / "record-tags.yaml"
    mine.write_text(mine.read_text().replace(f"id: {ADDED}", "id: tags-keep-insertion-order"))
    done = dxconform(tmp_path, "run", "--add-cases", "my-cases", "--out", "out")
    assert done.returncode == 2
    assert f"{mine}:25: case id 'tags-keep-insertion-order' is already in this run, at cases/" in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "dxconform: error: 1 added case id(s) collide with cases already in the run: give them other ids")
    assert not (tmp_path / "out" / "results.json").exists()


def test_a_directory_twice_or_missing_is_a_usage_error(tmp_path: Path, my_cases: Path):
    twice = dxconform(tmp_path, "run", "--cases", "my-cases", "--add-cases", "my-cases/semantics", "--out", "out")
    assert twice.returncode == 2 and "overlaps the case directory" in twice.stderr
    missing = dxconform(tmp_path, "run", "--add-cases", "nowhere", "--out", "out")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "dxconform: error: --add-cases: case directory nowhere does not exist"


def test_certify_refuses_added_cases(tmp_path: Path, my_cases: Path):
    done = dxconform(tmp_path, "certify", "--add-cases", "my-cases", "--out", "out")
    assert done.returncode == 2
    assert "certify refuses --add-cases my-cases: it runs case files besides the suite's" in done.stderr
