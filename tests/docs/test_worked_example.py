"""The worked example of docs/write-a-case.md is a valid case file that passes on a conforming server and
fails on one whose tags do not stick."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .shell import DOCS

EXAMPLE_CASES = DOCS / "examples" / "cases"


def run_example(out: Path, *extra: str) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "conformance.cli.main", "run", "--cases", str(EXAMPLE_CASES),
                           "--out", str(out), *extra], capture_output=True, text=True, timeout=300)
    return done.returncode, json.loads((out / "results.json").read_text())


def outcomes(document: dict) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in document["results"] if r["kind"] == "case"}


def test_worked_example_passes_on_the_reference_server(tmp_path: Path):
    code, document = run_example(tmp_path / "clean")
    assert code == 0
    assert outcomes(document) == {"cases/semantics/record-tags.yaml::added-tag-shows-then-goes": "passed",
                                  "cases/semantics/record-tags.yaml::tags-must-be-strings": "passed"}


def test_worked_example_catches_tags_that_do_not_stick(tmp_path: Path):
    code, document = run_example(tmp_path / "broken", "--embedded-fault", "tags-do-not-stick")
    assert code == 1
    assert set(outcomes(document).values()) == {"failed"}
