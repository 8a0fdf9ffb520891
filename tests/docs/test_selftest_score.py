"""The self-test score in README.md and docs/selftest.md is the recorded sweep's, for the catalogue as it is now."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from conformance.cli.main import main
from conformance.docgen import DEFAULT_ROOT
from conformance.docgen.regions import region_text
from conformance.docgen.selftest_score import render_readme, render_selftest_page, score_line
from conformance.selftest import CATALOGUE
from conformance.selftest.judge import Verdict
from conformance.selftest.record import (
    RECORD_COMMAND,
    RECORD_PATH,
    RecordError,
    ScoreRecord,
    read_record,
    record_of,
    suite_sha256,
    write_record,
)
from conformance.selftest.sweep import Sweep

CATALOGUE_FAULTS = [e.fault for e in CATALOGUE]


def a_record(**changes) -> ScoreRecord:
    record = ScoreRecord(dxconform="9.9.9", recorded="2030-01-02T03:04:05Z", suite_sha256="0" * 64, workers=2,
                         whole=False, cpus=2, seconds=312.4, faults=tuple(CATALOGUE_FAULTS),
                         caught=tuple(CATALOGUE_FAULTS), clean_failures=0, clean_problems=())
    return replace(record, **changes)


def test_readme_region_is_the_rendering_of_the_recorded_score():
    readme = (DEFAULT_ROOT / "README.md").read_text(encoding="utf-8")
    assert region_text(readme, "selftest-score") == render_readme(DEFAULT_ROOT)


def test_selftest_page_region_is_the_rendering_of_the_recorded_score():
    page = (DEFAULT_ROOT / "docs" / "selftest.md").read_text(encoding="utf-8")
    assert region_text(page, "selftest-score") == render_selftest_page(DEFAULT_ROOT)


def test_recorded_faults_are_exactly_the_catalogue():
    record = read_record(DEFAULT_ROOT / RECORD_PATH)
    assert record is not None, f"no {RECORD_PATH}: run `{RECORD_COMMAND}`"
    assert len(set(record.faults)) == len(record.faults)
    assert sorted(record.faults) == sorted(CATALOGUE_FAULTS), \
        f"{RECORD_PATH} was recorded for another catalogue: run `{RECORD_COMMAND}`, then python -m conformance.docgen"
    assert set(record.caught) <= set(record.faults)


def test_a_current_record_states_its_score_and_where_it_comes_from():
    line = score_line(a_record())
    n = len(CATALOGUE_FAULTS)
    assert line.startswith(f"Score at the last recorded sweep: **{n}/{n} faults caught; clean server: 0 failures**")
    assert "dxconform 9.9.9, recorded 2030-01-02" in line and "5 min 12 s" in line and "`-n 2`" in line


def test_escapes_and_a_dirty_clean_run_are_stated():
    escaped = CATALOGUE_FAULTS[0]
    line = score_line(a_record(caught=tuple(CATALOGUE_FAULTS[1:]), clean_failures=3,
                               clean_problems=("3 result(s) failed on the clean server",)))
    n = len(CATALOGUE_FAULTS)
    assert f"**{n - 1}/{n} faults caught; clean server: 3 failures**" in line and f"Escaped: `{escaped}`" in line


def test_a_record_of_another_catalogue_is_not_stated_as_current():
    older = a_record(faults=tuple(CATALOGUE_FAULTS[:-1]) + ("a-fault-since-removed",),
                     caught=tuple(CATALOGUE_FAULTS[:-1]) + ("a-fault-since-removed",))
    line = score_line(older)
    assert "**" not in line and "faults caught" not in line
    assert f"recorded for an older catalogue: {len(CATALOGUE_FAULTS)} faults now" in line
    assert f"new: `{CATALOGUE_FAULTS[-1]}`" in line and "gone: `a-fault-since-removed`" in line
    assert f"re-run `{RECORD_COMMAND}`" in line


def test_no_record_says_how_to_make_one():
    assert score_line(None).startswith("No score recorded yet") and RECORD_COMMAND in score_line(None)


def test_a_sweep_is_recorded_and_read_back(tmp_path):
    verdicts = [Verdict(name, name != "b", 1.0, 1) for name in ("a", "b")]
    clean = Verdict(None, True, 2.0, 0)
    record = record_of(Sweep(clean, verdicts, 65.0), workers=2, whole=False)
    path = tmp_path / "score.json"
    write_record(record, path)
    data = json.loads(path.read_text())
    assert data["caught"] == 1 and data["total"] == 2 and data["faults"] == ["a", "b"]
    assert data["caught_faults"] == ["a"] and data["escaped_faults"] == ["b"] and data["clean_failures"] == 0
    assert data["seconds"] == 65.0 and data["suite_sha256"] == suite_sha256() and data["dxconform"]
    assert read_record(path) == record


def test_a_file_that_is_no_record_is_refused(tmp_path):
    path = tmp_path / "score.json"
    path.write_text('{"format": "something-else"}')
    with pytest.raises(RecordError):
        read_record(path)


@pytest.mark.parametrize("partial", [["--quick"], ["--fault", "accepts-get"], ["--no-clean"]])
def test_only_a_whole_sweep_is_recorded(tmp_path, partial, capsys):
    path = tmp_path / "score.json"
    assert main(["selftest", *partial, "--record", str(path)]) == 2
    assert "--record" in capsys.readouterr().err and not path.exists()
