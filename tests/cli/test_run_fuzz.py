"""Fuzzing inside `dxconform run` and `dxconform replay`: results in all three files, seeds, -n, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.refserver.context import TOKEN_PREFIX

from ..pytest_plugin.support import TINY_CASES, assert_valid_results

# A few routes keep these runs short; -k selects fuzz items by route like cases by id.
FEW_ROUTES = "addTags or setProperties or sequences"
FINDING = "fuzz/negative//file-xxxx/addTags::rejects_invalid_input"


def dxconform(cwd: Path, *args: str, env: dict[str, str] | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "DXCONFORM_TOKEN", "DXCONFORM_TOKEN2")}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def fuzz_run(tmp_path: Path, out: str, *args: str, env: dict[str, str] | None = None):
    proc = dxconform(tmp_path, "run", "--cases", str(TINY_CASES), "--out", str(tmp_path / out), "--reruns", "0",
                     *args, env=env)
    path = tmp_path / out / "results.json"
    return proc, (json.loads(path.read_text()) if path.is_file() else None)


def fuzz_results(document: dict) -> dict[str, dict]:
    return {r["id"]: r for r in document["results"] if r["id"].startswith("fuzz/")}


def test_a_clean_fuzz_run_writes_one_passed_result_per_mode_and_route(tmp_path):
    proc, document = fuzz_run(tmp_path, "out", "--fuzz-only", "--fuzz-examples", "2", "--seed", "7",
                              "-k", FEW_ROUTES)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert_valid_results(document)
    assert document["seed"] == 7 and document["fuzz"]["seed"] == 7 and document["fuzz"]["examples"] == 2
    results = fuzz_results(document)
    # --fuzz-only: no case ran; every mode ran on the selected routes (stateful as one item).
    assert all(r["id"].startswith("fuzz/") for r in document["results"] if r["kind"] == "case")
    assert {"fuzz/positive//file-xxxx/addTags", "fuzz/negative//record-xxxx/setProperties",
            "fuzz/stateful"} <= set(results)
    for result in results.values():
        assert result["outcome"] == "passed" and result["topic"] == "fuzzing"
        assert result["fuzz"]["seed"] == 7 and result["fuzz"]["examples"] >= 1
        assert re.fullmatch(r"[0-9a-f]{64}", result["fuzz"]["requests_sha256"])
    assert results["fuzz/negative//file-xxxx/addTags"]["area"] == "json-input"
    assert "dxconform fuzzing: seed 7, 2 examples per route and mode" in proc.stdout
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert 'classname="fuzz.negative" name="/file-xxxx/addTags"' in junit
    assert "fuzz/positive//file-xxxx/addTags" in (tmp_path / "out" / "report.html").read_text()  # every result listed


def test_a_fault_is_a_failed_result_with_repro_and_replay_says_whether_it_reproduces(tmp_path):
    proc, document = fuzz_run(tmp_path, "out", "--fuzz-only", "--fuzz-examples", "40", "--seed", "0",
                              "--fuzz-mode", "negative", "-k", "file-xxxx/addTags",
                              "--embedded-fault", "accepts-wrong-type")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    assert_valid_results(document)
    finding = fuzz_results(document)[FINDING]
    assert finding["outcome"] == "failed" and finding["level"] == "MUST" and finding["area"] == "json-input"
    record = finding["fuzz"]
    assert record["rule"] == "rejects_invalid_input" and record["seed"] == 0 and record["count"] >= 1
    assert record["steps"][-1]["route"] == "/file-xxxx/addTags" and record["steps"][-1].get("violation")
    assert record["curl"].startswith("curl ") and "$DX_API_TOKEN" in record["curl"]
    assert "dxpy.DXHTTPRequest(" in record["dxpy"] and f"dxconform replay {FINDING}" in finding["message"]
    assert TOKEN_PREFIX not in json.dumps(document)   # no token of the embedded server
    assert "FAILED fuzz/negative::/file-xxxx/addTags" in proc.stdout
    results = str(tmp_path / "out" / "results.json")
    again = dxconform(tmp_path, "replay", FINDING, "--results", results, "--embedded-fault", "accepts-wrong-type")
    assert again.returncode == 1, again.stdout + again.stderr
    assert "reproduced: [MUST] rejects_invalid_input" in again.stdout
    fixed = dxconform(tmp_path, "replay", FINDING, "--results", results)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "not reproduced" in fixed.stdout and "-> 422" in fixed.stdout


def test_the_same_seed_sends_the_same_requests_whatever_the_worker_split(tmp_path):
    def digests(out: str, seed: str, *more: str) -> dict[str, str]:
        proc, document = fuzz_run(tmp_path, out, "--fuzz-only", "--fuzz-examples", "3", "--seed", seed,
                                  "-k", FEW_ROUTES, *more)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
        return {rid: r["fuzz"]["requests_sha256"] for rid, r in fuzz_results(document).items()}

    first = digests("a", "5")
    assert len(first) >= 7
    assert digests("b", "5", "-n", "2") == first
    other = digests("c", "6")
    # Another seed draws other examples (a route with few possible inputs may repeat itself).
    assert other.keys() == first.keys() and sum(other[k] != first[k] for k in first) > len(first) // 2


@pytest.mark.parametrize(("env", "seed_is_zero"), [({"CI": "true"}, True), ({}, False)])
def test_the_default_seed_is_fixed_in_ci_and_random_elsewhere_and_always_recorded(tmp_path, env, seed_is_zero):
    proc, document = fuzz_run(tmp_path, "out", "--fuzz-only", "--fuzz-examples", "1", "--fuzz-mode", "positive",
                              "-k", "system/whoami", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    seed = document["fuzz"]["seed"]
    assert (seed == 0) is seed_is_zero or (not seed_is_zero and seed != 0)
    assert f"--seed {seed} sends the same requests again" in proc.stdout


def test_without_fuzzing_options_no_fuzz_item_runs(tmp_path):
    proc, document = fuzz_run(tmp_path, "out")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert not fuzz_results(document) and "fuzz" not in document and document["seed"] == 0


@pytest.mark.parametrize(("args", "says"), [
    (["run", "--no-fuzz", "--fuzz"], "--no-fuzz contradicts"),
    (["run", "--fuzz-only", "--fuzz-examples", "0"], "would run nothing"),
    (["run", "--fuzz-mode", "negative"], "apply to fuzzing"),
    (["replay", "fuzz/x::y", "--results", "missing.json"], "cannot read missing.json"),
])
def test_fuzz_usage_problems_exit_2_in_one_line(tmp_path, args, says):
    proc = dxconform(tmp_path, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_replay_refuses_a_result_that_is_not_a_finding(tmp_path):
    proc, _ = fuzz_run(tmp_path, "out", "--fuzz-only", "--fuzz-examples", "1", "--fuzz-mode", "positive",
                       "-k", "system/whoami")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    results = str(tmp_path / "out" / "results.json")
    clean = dxconform(tmp_path, "replay", "fuzz/positive//system/whoami", "--results", results)
    assert clean.returncode == 2 and "is not a fuzz finding" in clean.stderr
    unknown = dxconform(tmp_path, "replay", "fuzz/nothing", "--results", results)
    assert unknown.returncode == 2 and "no result 'fuzz/nothing'" in unknown.stderr


def test_replay_reads_a_findings_file_of_the_library(tmp_path, capsys):
    from conformance.cli.main import main
    from conformance.fuzz import FuzzConfig
    from conformance.fuzz.engine import run_fuzz
    from conformance.refserver.context import Settings
    from conformance.refserver.server import RefServer

    with RefServer(settings=Settings(faults=frozenset({"accepts-wrong-type"}))) as server:
        report = run_fuzz(FuzzConfig(server.url, server.settings.users, routes=("/file-xxxx/addTags",),
                                     modes=("negative",), examples=40, seed=0, shrink_seconds=1))
    report.save(tmp_path / "findings.json")
    assert FINDING in report.findings
    code = main(["replay", FINDING, "--findings", str(tmp_path / "findings.json"),
                 "--embedded-fault", "accepts-wrong-type"])
    assert code == 1 and "reproduced: [MUST] rejects_invalid_input" in capsys.readouterr().out
    assert main(["replay", "fuzz/x::y", "--findings", str(tmp_path / "findings.json")]) == 2
    assert "no finding 'fuzz/x::y'" in capsys.readouterr().err


def test_a_run_that_only_fuzzes_does_not_load_the_case_files(tmp_path):
    """--fuzz-only runs no case: a case file it could not load does not stop it (a plain run would exit 2)."""
    broken = tmp_path / "cases"
    broken.mkdir()
    (broken / "broken.yaml").write_text("cases:\n  - id: [not, a, string\n")
    plain = dxconform(tmp_path, "run", "--cases", str(broken), "--out", str(tmp_path / "plain"))
    assert plain.returncode == 2 and "broken.yaml" in plain.stderr, plain.stdout[-2000:] + plain.stderr
    proc = dxconform(tmp_path, "run", "--cases", str(broken), "--out", str(tmp_path / "out"), "--reruns", "0",
                     "--fuzz-only", "--fuzz-examples", "1", "--fuzz-mode", "positive", "-k", "system/whoami")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(fuzz_results(document)) == ["fuzz/positive//system/whoami"]
    assert not [r for r in document["results"] if r["kind"] == "case" and not r["id"].startswith("fuzz/")]
