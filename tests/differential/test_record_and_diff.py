"""record + diff end to end: the embedded server against its own recording, broken variants, two live servers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conformance.differential.golden import FORMAT, read_golden
from conformance.refserver.context import FIXED_TOKENS, TOKEN_PREFIX, Settings
from conformance.refserver.server import RefServer

from .support import NOT_FOUND, SMALL_SET, WHOAMI, case_options, dxconform, findings


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("golden") / "golden.json"
    done = dxconform("record", *case_options(SMALL_SET), "--out", str(path))
    assert done.returncode == 0, done.stderr
    return path


def test_recording_is_valid_and_holds_every_case(golden: Path) -> None:
    document = read_golden(golden)
    assert document["format"] == FORMAT
    ids = [case["id"] for case in document["cases"]]
    assert any(i.startswith("cases/semantics/search/paging.yaml::") for i in ids)
    assert all(case["steps"] for case in document["cases"] if case["outcome"] == "passed")
    requests = [e["request"] for c in document["cases"] for s in c["steps"] for e in s["exchanges"]]
    # Requests carry placeholders, never the run's own prefix or IDs.
    prefix = document["placeholders"]["run_prefix"]
    assert not any(prefix in json.dumps(r) for r in requests)
    assert any("{{id:" in r["path"] for r in requests) and any("{{run_prefix}}" in json.dumps(r) for r in requests)


def test_recording_contains_no_token(golden: Path) -> None:
    text = golden.read_text()
    assert TOKEN_PREFIX not in text   # no token of the embedded server
    # Requests keep only whether a token was sent; /system/headers echoes the header, scrubbed on arrival.
    assert re.search(r"Bearer (?!\*\*\*\")", text) is None
    requests = [e["request"] for c in json.loads(text)["cases"] for s in c["steps"] for e in s["exchanges"]]
    assert all("authorization" not in map(str.lower, r["headers"]) for r in requests)
    assert any(r["auth"] for r in requests) and any(not r["auth"] for r in requests)


def test_embedded_server_against_its_own_recording_has_no_difference(golden: Path, tmp_path: Path) -> None:
    done = dxconform("diff", "--golden", str(golden), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["summary"]["failed"] == 0 and document["summary"]["passed"] == len(document["results"]) > 20
    assert findings(tmp_path) == set()
    assert all(r["area"] == "semantics" and r["topic"] == "differential" for r in document["results"])
    assert "Differences from the golden recording" in (tmp_path / "report.html").read_text()
    assert (tmp_path / "junit.xml").read_text().count("<testcase") == len(document["results"])


BROKEN = {
    "diff-renamed-field": {(WHOAMI, "only-in-golden", "$.id"), (WHOAMI, "only-in-candidate", "$.userId"),
                           (WHOAMI, "not-run", "step 2")},   # the case cannot save `id`, so its step 2 never ran
    "diff-extra-field": {(WHOAMI, "only-in-candidate", "$.region")},
    "diff-changed-error-type": {(NOT_FOUND, "error-type", "$.error.type")},
    "diff-changed-status": {(NOT_FOUND, "status", "status")},
}


@pytest.fixture(scope="module")
def small_golden(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("golden") / "small.json"
    assert dxconform("record", *case_options((WHOAMI, NOT_FOUND)), "--out", str(path)).returncode == 0
    return path


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_broken_variant_shows_exactly_its_differences(fault: str, small_golden: Path, tmp_path: Path) -> None:
    done = dxconform("diff", "--golden", str(small_golden), "--embedded-fault", fault, "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr    # differences are SHOULD unless configured
    assert findings(tmp_path) == BROKEN[fault]
    page = (tmp_path / "report.html").read_text()
    assert "golden answer" in page and "this server's answer" in page


def test_extra_field_shows_on_both_steps(small_golden: Path, tmp_path: Path) -> None:
    dxconform("diff", "--golden", str(small_golden), "--embedded-fault", "diff-extra-field", "--out", str(tmp_path))
    document = json.loads((tmp_path / "results.json").read_text())
    (whoami,) = [r for r in document["results"] if r["id"] == WHOAMI]
    assert [f["message"].split(":")[0] for f in whoami["findings"]] == ["step 1 /system/whoami",
                                                                       "step 2 /system/whoami"]


def test_config_ignores_and_levels(small_golden: Path, tmp_path: Path) -> None:
    config = tmp_path / "diff.yaml"
    config.write_text("level: MUST\nignore:\n  - path: $.region\n    reason: our servers say where they run\n")
    done = dxconform("diff", "--golden", str(small_golden), "--embedded-fault", "diff-extra-field",
                     "--config", str(config), "--out", str(tmp_path / "a"))
    assert done.returncode == 0 and findings(tmp_path / "a") == set()
    assert "2 ignored" in done.stdout
    config.write_text("levels:\n  - kind: status\n    level: MUST\n")
    done = dxconform("diff", "--golden", str(small_golden), "--embedded-fault", "diff-changed-status",
                     "--config", str(config), "--out", str(tmp_path / "b"))
    assert done.returncode == 1    # a MUST difference fails the diff like a MUST failure fails a run


def test_two_live_servers_compared_directly(tmp_path: Path) -> None:
    # Both servers with the same (fixed) tokens: one --token and --token2 sign in to both.
    with RefServer(settings=Settings(users=dict(FIXED_TOKENS))) as reference, \
            RefServer(settings=Settings(users=dict(FIXED_TOKENS), faults=frozenset({"diff-extra-field"}))) as candidate:
        done = dxconform("diff", "--server", candidate.url, "--against", reference.url, "--token", "alice-token",
                         "--token2", "bob-token", *case_options((WHOAMI, NOT_FOUND)), "--out", str(tmp_path),
                         "--save", str(tmp_path / "candidate.json"))
    assert done.returncode == 0, done.stderr
    assert findings(tmp_path) == BROKEN["diff-extra-field"]
    saved = read_golden(tmp_path / "candidate.json")
    assert [c["id"] for c in saved["cases"]] == [WHOAMI, NOT_FOUND]


@pytest.mark.parametrize("args, message", [
    ((), "exactly one of --golden"),
    (("--golden", "/nonexistent/g.json"), "cannot read"),
])
def test_usage_errors_are_one_line(args, message, tmp_path: Path) -> None:
    done = dxconform("diff", *args, "--out", str(tmp_path))
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
