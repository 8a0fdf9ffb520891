"""Certification is all or nothing: certify refuses a subset unless --partial, and verify says FULL or PARTIAL."""

from __future__ import annotations

import argparse
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from conformance.certify import MANIFEST_FILE, verify_bundle
from conformance.certify.bundle import manifest_text, write_archive
from conformance.certify.scope import case_results, scope_record, suite_case_ids, suite_sha256
from conformance.cli.gate_cmds import narrowed_by, narrowing_options
from conformance.cli.main import build_parser
from conformance.reporting.results_json import summarize
from conformance.resources import cases_dir, schemas_dir

from ..gate.support import dxconform
from ..pytest_plugin.support import TINY_CASES
from ..suite.runs import Run, shared_clean_run

PARTIAL_KEYWORD = "whoami"
ONE_LINE_REASON = "certify refuses "


def members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive}


def certify(workdir: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    out = workdir / "out"
    return dxconform(workdir, "certify", "-n", "2", "--out", str(out), *args), out / "certification.tar.gz"


def verify(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    return dxconform(bundle.parent, "verify", str(bundle), *args)


def verdict(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.splitlines()[-1]


def rewritten(bundle: Path, target: Path, edit) -> Path:
    """The bundle with suite.json edited by `edit` and the manifest regenerated to match, as a forger would."""
    files = members(bundle)
    suite = json.loads(files["suite.json"])
    edit(suite)
    files["suite.json"] = json.dumps(suite).encode()
    files[MANIFEST_FILE] = manifest_text({k: v for k, v in files.items() if k != MANIFEST_FILE}).encode()
    return write_archive(target, files, mtime=0)


@pytest.fixture(scope="module")
def partial(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    return certify(tmp_path_factory.mktemp("partial"), "--partial", "-k", PARTIAL_KEYWORD)


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> tuple[Run, Path]:
    """`dxconform certify -n 2` of the whole suite on the embedded server: the session's shared clean run is that
    certification (tests/suite/runs.py), read here, never changed."""
    run = shared_clean_run(tmp_path_factory)
    return run, run.out / "certification.tar.gz"


# --- refusals -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [["-k", "x"], ["--cases", str(TINY_CASES)], ["--profile", "core"],
                                     ["--shard", "1/2"], ["--expectations", "known.yaml"], ["--fuzz-only"]])
def test_certify_refuses_a_subset_in_one_line_before_anything_runs(tmp_path: Path, options: list[str]) -> None:
    proc, bundle = certify(tmp_path, *options)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"dxconform: error: {ONE_LINE_REASON}{options[0]}"), lines
    assert "--partial" in lines[0]
    assert proc.stdout == "" and not bundle.exists() and not bundle.parent.exists()


def test_every_refused_option_is_named_at_once(tmp_path: Path) -> None:
    proc, _ = certify(tmp_path, "-k", "a or b", "--fuzz-only")
    assert proc.returncode == 2 and "-k 'a or b'" in proc.stderr and "--fuzz-only" in proc.stderr
    assert "runs no case" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_narrowing_option_the_run_options_gain_later_is_refused_too() -> None:
    # The shared run options grow (-m, --claims, --quiet ...): -m narrows, whatever its dest; the others do not.
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", dest="keyword")
    parser.add_argument("-m", "--marker", dest="markexpr", metavar="EXPR")
    parser.add_argument("--profile", action="append", default=[])
    parser.add_argument("--claims", action="append", default=[])
    parser.add_argument("--quiet", action="store_true")
    assert [flag for flag, _, _ in narrowing_options(parser)] == ["-k", "-m", "--profile"]
    args = parser.parse_args(["--marker", "MUST and area_auth", "--claims", "core,executables", "--quiet"])
    args.narrowing_options = narrowing_options(parser)
    assert narrowed_by(args) == ["-m 'MUST and area_auth'"]
    args = parser.parse_args(["--quiet", "--claims", "core"])
    args.narrowing_options = narrowing_options(parser)
    assert narrowed_by(args) == []


def test_the_certify_parser_knows_every_narrowing_option_it_has() -> None:
    args = build_parser().parse_args(["certify", "--partial", "-k", "whoami", "--profile", "core",
                                      "--profile", "executables", "--shard", "1/2"])
    assert narrowed_by(args) == ["--profile core", "--profile executables", "-k whoami", "--shard 1/2"]
    assert narrowed_by(build_parser().parse_args(["certify", "--seed", "3", "--reruns", "0"])) == []


# --- partial ------------------------------------------------------------------------------------------------

def test_partial_writes_a_bundle_marked_partial(partial) -> None:
    proc, bundle = partial
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    files = members(bundle)
    suite, results = json.loads(files["suite.json"]), json.loads(files["results.json"])
    selected = len(case_results(results))
    assert 0 < selected < suite["cases_in_suite"]
    assert suite["scope"] == "partial" and suite["narrowed_by"] == [f"-k {PARTIAL_KEYWORD}"]
    assert suite["cases_selected"] == selected and suite["seed"] == 0 and suite["fuzz_examples"] == 0
    assert verdict(proc) == (f"PARTIAL ({selected}/{suite['cases_in_suite']} cases: -k {PARTIAL_KEYWORD}; "
                             f"suite digest {suite['suite_sha256'][:12]})")


def test_verify_require_full_refuses_a_partial_bundle(partial) -> None:
    checked = verify(partial[1], "--require-full")
    assert checked.returncode == 1 and verdict(checked).startswith("PARTIAL ("), checked.stdout


def test_verify_without_require_full_passes_a_partial_bundle_saying_partial(partial) -> None:
    checked = verify(partial[1])
    assert checked.returncode == 0 and verdict(checked).startswith("PARTIAL ("), checked.stdout
    assert "no certificate of the full suite" in checked.stdout and "PASS" not in checked.stdout


def test_the_bundle_records_the_seed_and_the_fuzz_budget(tmp_path: Path) -> None:
    proc, bundle = certify(tmp_path, "--partial", "-k", PARTIAL_KEYWORD, "--fuzz-examples", "1", "--seed", "7",
                           "--fuzz-mode", "positive")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    files = members(bundle)
    suite, results = json.loads(files["suite.json"]), json.loads(files["results.json"])
    assert suite["seed"] == 7 and suite["fuzz_examples"] == 1
    # Fuzzing results are written as kind "case" but are no case of the suite: they are not counted.
    fuzzed = [r for r in results["results"] if "fuzz" in r]
    assert fuzzed and suite["cases_selected"] == len(case_results(results))
    assert suite["cases_selected"] == sum(1 for r in results["results"] if r["kind"] == "case") - len(fuzzed)
    assert "seed 7; fuzzing 1 examples per route and mode" in verify(bundle).stdout


# --- full ---------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_full_certification_verifies_as_the_full_suite(full) -> None:
    proc, bundle = full
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    files = members(bundle)
    suite, results = json.loads(files["suite.json"]), json.loads(files["results.json"])
    ran = case_results(results)
    # The full-suite count (loaded cases, for_each expanded) and the run's case results are the same ids.
    assert {r["id"] for r in ran} == set(suite_case_ids(cases_dir()))
    assert suite["scope"] == "full" and suite["narrowed_by"] == []
    assert suite["cases_selected"] == suite["cases_in_suite"] == len(ran)
    assert suite["suite_sha256"] == suite_sha256(cases_dir(), schemas_dir())
    checked = verify(bundle, "--require-full")
    expected = f"PASS (full suite: {len(ran)}/{len(ran)} cases, suite digest {suite['suite_sha256'][:12]})"
    assert checked.returncode == 0 and verdict(checked) == expected and verdict(proc) == expected


@pytest.mark.slow
def test_a_full_bundle_whose_results_lost_cases_is_not_full(full, tmp_path: Path) -> None:
    # suite.json still says full; results.json keeps a few cases, its summary recounted, the manifest rewritten.
    files = members(full[1])
    results = json.loads(files["results.json"])
    results["results"] = [r for r in results["results"] if r["kind"] != "case" or PARTIAL_KEYWORD in r["id"]]
    results["summary"] = summarize(results["results"])
    files["results.json"] = json.dumps(results).encode()
    files[MANIFEST_FILE] = manifest_text({k: v for k, v in files.items() if k != MANIFEST_FILE}).encode()
    fewer = write_archive(tmp_path / "fewer.tar.gz", files, mtime=0)
    verification = verify_bundle(fewer)
    assert not verification.full and verification.verdict == "FAIL"
    assert any("results.json holds" in problem for problem in verification.problems), verification.problems
    checked = verify(fewer)
    assert checked.returncode == 1 and "not intact" in checked.stdout and "PASS" not in checked.stdout


def test_a_partial_bundle_relabelled_full_is_reported_not_full(partial, tmp_path: Path) -> None:
    def claim_full(suite: dict) -> None:
        suite["scope"], suite["narrowed_by"] = "full", []

    relabelled = rewritten(partial[1], tmp_path / "relabelled.tar.gz", claim_full)
    verification = verify_bundle(relabelled)
    assert verification.intact and not verification.full and verification.verdict == "FAIL"
    checked = verify(relabelled)
    assert checked.returncode == 1 and verdict(checked).startswith("FAIL (not the full suite: "), checked.stdout


def test_a_partial_bundle_claiming_every_case_is_caught_by_its_results(partial, tmp_path: Path) -> None:
    def claim_full(suite: dict) -> None:
        suite["scope"], suite["narrowed_by"], suite["cases_selected"] = "full", [], suite["cases_in_suite"]

    relabelled = rewritten(partial[1], tmp_path / "claimed.tar.gz", claim_full)
    verification = verify_bundle(relabelled)
    assert not verification.full and verification.verdict == "FAIL"
    assert [p for p in verification.problems if "case results" in p] == [
        f"suite.json: records {verification.suite['cases_in_suite']} cases selected, results.json holds "
        f"{len(case_results(json.loads(members(partial[1])['results.json'])))} case results"]
    checked = verify(relabelled, "--require-full")
    assert checked.returncode == 1 and "not intact" in checked.stdout


# --- the suite digest ---------------------------------------------------------------------------------------

def test_the_suite_digest_covers_every_case_file_and_schema(tmp_path: Path) -> None:
    cases, schemas = tmp_path / "cases", tmp_path / "schemas"
    (cases / "area").mkdir(parents=True)
    (schemas / "meta").mkdir(parents=True)
    (cases / "area" / "a.yaml").write_text("cases: []\n")
    (schemas / "meta" / "s.json").write_text("{}\n")
    first = suite_sha256(cases, schemas)
    assert first == suite_sha256(cases, schemas) and len(first) == 64
    (cases / "area" / "a.yaml").write_text("cases: [] \n")
    second = suite_sha256(cases, schemas)
    (schemas / "meta" / "s.json").write_text("{ }\n")
    third = suite_sha256(cases, schemas)
    (cases / "area" / "b.yaml").write_text("")
    assert len({first, second, third, suite_sha256(cases, schemas)}) == 4


def test_the_scope_record_counts_cases_not_checks_or_fuzzing() -> None:
    results = {"seed": 3, "fuzz": {"examples": 2, "seed": 3},
               "results": [{"id": "cases/a.yaml::x", "kind": "case"}, {"id": "checks/c::/r", "kind": "check"},
                           {"id": "fuzz/positive//r", "kind": "case", "fuzz": {}}]}
    record = scope_record(results, narrowed_by=["-k x"], suite_ids=["cases/a.yaml::x", "cases/a.yaml::y"],
                          digest="0" * 64)
    assert record == {"scope": "partial", "narrowed_by": ["-k x"], "suite_sha256": "0" * 64,
                      "cases_selected": 1, "cases_in_suite": 2, "seed": 3, "fuzz_examples": 2}
    assert scope_record(results, narrowed_by=[], suite_ids=[], digest="")["scope"] == "full"
