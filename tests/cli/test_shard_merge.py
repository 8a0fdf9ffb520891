"""`run --shard K/N` then `merge`: the same case and check results, junit.xml and report as one unsharded run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.pytest_plugin.shard import parse_shard, shard_of
from conformance.reporting.merge import MergeError, merge_documents

SELECTION = "identity or errors or paging or tokens"


def dxconform(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args], capture_output=True, text=True,
                          timeout=300)


def results(path: Path) -> dict:
    return json.loads((path / "results.json").read_text())


def outcomes(document: dict, kind: str) -> set[tuple[str, str]]:
    return {(r["id"], r["outcome"]) for r in document["results"] if r["kind"] == kind}


def junit_cases(path: Path) -> set[tuple[str, str, str]]:
    text = (path / "junit.xml").read_text()
    found = set()
    for match in re.finditer(r'<testcase classname="([^"]*)" name="([^"]*)"[^>]*>(.*?)</testcase>', text, re.S):
        inner = match.group(3)
        state = next((tag for tag in ("failure", "error", "skipped") if f"<{tag}" in inner), "passed")
        found.add((match.group(1), match.group(2), state))
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("shards")
    paths = {"whole": base / "whole", "merged": base / "merged"}
    done = dxconform("run", "-k", SELECTION, "--out", str(paths["whole"]))
    assert done.returncode == 0, done.stderr
    for index in (1, 2, 3):
        paths[f"{index}"] = base / f"shard{index}"
        done = dxconform("run", "-k", SELECTION, "--shard", f"{index}/3", "--out", str(paths[f"{index}"]))
        assert done.returncode == 0, done.stderr
    done = dxconform("merge", *(str(paths[f"{i}"] / "results.json") for i in (1, 2, 3)), "--out", str(paths["merged"]))
    assert done.returncode == 0, done.stderr
    return paths


def test_shards_partition_the_cases(runs) -> None:
    shards = [outcomes(results(runs[f"{i}"]), "case") for i in (1, 2, 3)]
    assert all(shards) and sum(map(len, shards)) == len(set().union(*shards))
    assert all(results(runs[f"{i}"])["shard"]["index"] == i for i in (1, 2, 3))


def test_merge_gives_the_unsharded_results(runs) -> None:
    whole, merged = results(runs["whole"]), results(runs["merged"])
    assert outcomes(merged, "case") == outcomes(whole, "case") and len(outcomes(whole, "case")) > 100
    assert outcomes(merged, "check") == outcomes(whole, "check")
    assert merged["summary"] == whole["summary"]
    assert "shard" not in merged
    # Check results add up the shards' ledgers, as one run adds up its xdist workers': each merged count is the
    # sum of the shards' counts. (Not compared with the unsharded run's counts: how many exchanges a route gets
    # depends on how often a case polls it, e.g. an analysis' describe until it is done.)
    def applied(document):
        return {r["id"]: r["check_counts"]["applied"] for r in document["results"] if r["kind"] == "check"}
    shards = [applied(results(runs[f"{i}"])) for i in (1, 2, 3)]
    merged_counts = applied(merged)
    assert merged_counts and any(merged_counts.values())
    assert {key: sum(shard.get(key, 0) for shard in shards) for key in merged_counts} == merged_counts


def test_merge_writes_junit_and_report_like_a_run(runs) -> None:
    assert junit_cases(runs["merged"]) == junit_cases(runs["whole"])
    page = (runs["merged"] / "report.html").read_text()
    assert "id='dx-headline'" in page and "id='dx-routes'" in page
    assert (runs["merged"] / "badges").is_dir() == (runs["whole"] / "badges").is_dir()


def test_merge_refuses_incomplete_or_overlapping_shards(runs) -> None:
    one, two = results(runs["1"]), results(runs["2"])
    with pytest.raises(MergeError, match="3/3 missing"):
        merge_documents([one, two])
    with pytest.raises(MergeError, match="more than once"):
        merge_documents([one, one, two])
    done = dxconform("merge", str(runs["1"] / "results.json"), "--out", str(runs["merged"] / "x"))
    assert done.returncode == 2 and "missing" in done.stderr


def test_a_stopped_shard_leaves_the_merge_without_a_verdict(runs, tmp_path) -> None:
    stop = {"cause": "deadline", "message": "the run's deadline passed", "not_run": 3,
            "not_run_by_reason": {"deadline": 3}}
    documents = [results(runs[f"{i}"]) for i in (1, 2, 3)]
    documents[1]["stopped"] = stop
    documents[2]["stopped"] = dict(stop, not_run=2, not_run_by_reason={"deadline": 2})
    merged = merge_documents(documents)
    assert merged["stopped"]["not_run"] == 5 and merged["stopped"]["not_run_by_reason"] == {"deadline": 5}
    assert "stopped" not in merge_documents([results(runs[f"{i}"]) for i in (1, 2, 3)])
    paths = []
    for index, document in enumerate(documents):
        paths.append(tmp_path / f"{index}.json")
        paths[-1].write_text(json.dumps(document))
    done = dxconform("merge", *map(str, paths), "--out", str(tmp_path / "merged"))
    assert done.returncode == 2 and "a shard stopped: the run's deadline passed; 5 case(s)" in done.stderr


def test_shard_of_is_stable_and_spreads_cases() -> None:
    ids = [f"cases/a/f{n % 7}.yaml::case-{n}" for n in range(900)]
    before = {i: shard_of(i, 3) for i in ids}
    # adding cases (to any file) moves no other case
    after = {i: shard_of(i, 3) for i in ids + [f"cases/a/f1.yaml::new-{n}" for n in range(50)]}
    assert all(after[i] == before[i] for i in ids)
    sizes = [list(before.values()).count(k) for k in (1, 2, 3)]
    assert min(sizes) > 250


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_shard(text)
    done = dxconform("run", "--shard", text, "--out", "/nonexistent-dir-never-made")
    assert done.returncode == 2 and "--shard" in done.stderr
