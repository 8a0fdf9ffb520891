"""`dxconform selftest`: its verdicts (caught, escaped, collateral, clean) and its command line."""

from __future__ import annotations

import json
import subprocess
import sys

from conformance.selftest import Entry, judge_clean, judge_fault, matches
from conformance.selftest.sweep import clean_keyword

from .runs import REPO

KILLER = "cases/a/b.yaml::killer-case"
ENTRY = Entry("close-does-nothing", "killer-case", (KILLER, "checks/strict_int::"))


def doc(pairs: list[tuple[str, str]]) -> dict:
    return {"results": [{"id": i, "outcome": o} for i, o in pairs]}


def test_killers_match_exactly_or_by_prefix():
    assert matches(KILLER, KILLER) and not matches(KILLER + "-2", KILLER)
    assert matches("checks/strict_int::/record-xxxx/describe", "checks/strict_int::")
    assert matches("cases/x.yaml::c[/a]", "cases/x.yaml::c[") and not matches("cases/x.yaml::cc", "cases/x.yaml::c[")
    assert matches("cases/x.yaml::anything", "cases/x.yaml::a*")


def test_a_fault_is_caught_when_every_killer_breaks_and_the_run_exits_1():
    verdict = judge_fault(ENTRY, 1, doc([(KILLER, "failed"), ("checks/strict_int::/x", "error"),
                                         ("cases/other.yaml::c", "failed"), ("cases/fine.yaml::c", "passed")]), 1.0)
    assert verdict.caught
    assert verdict.found == list(ENTRY.killers) and verdict.missing == []
    assert verdict.collateral == ["cases/other.yaml::c"]


def test_a_fault_escapes_when_a_killer_passes():
    verdict = judge_fault(ENTRY, 1, doc([(KILLER, "failed"), ("checks/strict_int::/x", "passed")]), 1.0)
    assert not verdict.caught and verdict.missing == ["checks/strict_int::"]


def test_a_must_fault_escapes_when_the_run_exits_0():
    verdict = judge_fault(ENTRY, 0, doc([(KILLER, "failed"), ("checks/strict_int::/x", "failed")]), 1.0)
    assert not verdict.caught and any("expected 1" in p for p in verdict.problems)
    should = Entry("no-nosniff", "k", (KILLER,), level="SHOULD")
    assert judge_fault(should, 0, doc([(KILLER, "failed")]), 1.0).caught


def test_a_run_without_results_is_never_a_catch():
    verdict = judge_fault(ENTRY, 2, None, 1.0)
    assert not verdict.caught and verdict.problems == ["no results (exit 2)"]


def test_the_clean_run_must_pass_every_killer_and_fail_nothing():
    entries = [ENTRY]
    good = judge_clean(0, doc([(KILLER, "passed"), ("checks/strict_int::/r", "passed")]), 1.0, entries)
    assert good.caught and good.collateral == [] and good.missing == []
    dirty = judge_clean(1, doc([(KILLER, "passed"), ("checks/strict_int::/r", "passed"), ("cases/x::y", "failed")]),
                        1.0, entries)
    assert not dirty.caught and dirty.collateral == ["cases/x::y"]
    absent = judge_clean(0, doc([(KILLER, "passed")]), 1.0, entries)
    assert not absent.caught and absent.missing == ["checks/strict_int::"]


def test_the_clean_selection_is_the_union_of_the_faults_selections():
    entries = [ENTRY, Entry("no-nosniff", "a or b", (KILLER,))]
    assert clean_keyword(entries) == "(killer-case) or (a or b)"


def selftest(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", "selftest", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_list_prints_every_fault_with_its_rule_and_killers():
    proc = selftest("--list", "--quick")
    assert proc.returncode == 0, proc.stderr
    assert "accepts-get  (url-forms, MUST) [quick]" in proc.stdout and "preflight-refused" not in proc.stdout
    assert "killer: cases/url-forms/http-methods.yaml::non-post-is-not-a-success" in proc.stdout


def test_an_unknown_fault_is_a_usage_error():
    proc = selftest("--fault", "no-such-fault")
    assert proc.returncode == 2 and "unknown fault 'no-such-fault'" in proc.stderr


def test_selftest_of_one_fault_prints_the_score_and_writes_its_verdicts(tmp_path):
    proc = selftest("--fault", "accepts-get", "--out", str(tmp_path / "st"), "-n", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "caught   accepts-get" in proc.stdout
    assert "score: 1/1 faults caught; clean server: 0 failures" in proc.stdout
    verdicts = json.loads((tmp_path / "st" / "selftest.json").read_text())
    assert verdicts["format"] == "dxconform-selftest/1" and verdicts["caught"] == verdicts["total"] == 1
    assert verdicts["clean"]["caught"] is True
    assert verdicts["faults"][0]["found"] == [
        "cases/url-forms/http-methods.yaml::non-post-is-not-a-success",
        "cases/url-forms/http-methods.yaml::get-new-creates-nothing"]
