"""A failure's reproduction reproduces: the script of a failed case, run after the suite finished and cleaned up,
replays the case against the still-running broken server and sees the failure again (exit 1), and against a
clean server does not (exit 0); `--keep` leaves the run's objects, and the delete command it prints removes them.
Plus the parts: the ID substitution, the comparison, the rule field, the -k line."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from conformance.refserver.context import FIXED_TOKENS, Settings
from conformance.refserver.server import RefServer, free_port
from conformance.reporting import reproduction
from conformance.reporting.failure_section import failure_html, rule_of
from conformance.reporting.replay_runtime import MISSING, Answer, Substitutions, same, verdict, walk_summary

FAULT = "tags-do-not-stick"
# Cases that fail under the fault: an expectation on a later describe, and a status on the addTags itself.
FAILING = ("cases/semantics/metadata/tags-types.yaml::tags-keep-insertion-order",
           "cases/semantics/metadata/tags-types.yaml::empty-tag-is-invalid-input")
SELECTION = "tags-types.yaml and (tags-keep-insertion-order or empty-tag-is-invalid-input)"
TOKENS = {"DX_TOKEN_ALICE": "alice-token", "DX_TOKEN_BOB": "bob-token"}


def dxconform(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
              ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DX_", "DXCONFORM_"))}


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory) -> Iterator[str]:
    """`dxconform serve --fault tags-do-not-stick`, started as a user would, in a process of its own."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "conformance.cli.main", "serve", "--port", str(port),
                                   "--fault", FAULT, "--fixed-tokens"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "listening on http://" not in log.read_text():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def clean_server() -> Iterator[RefServer]:
    with RefServer(settings=Settings(closing_ms=200, users=dict(FIXED_TOKENS))) as server:
        yield server


@pytest.fixture(scope="module")
def broken_run(broken_server, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The suite run against the broken server, finished (cleanup done) before any script runs."""
    cwd = tmp_path_factory.mktemp("run")
    proc = dxconform("run", "--server", broken_server, "--token", "alice-token", "--token2", "bob-token",
                     "-k", SELECTION, "--out", "out", "--reruns", "0", cwd=cwd, env=clean_environment())
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    return cwd / "out", proc


def run_script(script: Path, server: str | None) -> subprocess.CompletedProcess:
    env = {**clean_environment(), **TOKENS}
    if server:
        env["DX_SERVER"] = server
    return subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)


def project_exists(server: str, project: str, token: str = "alice-token") -> bool:
    answer = requests.post(f"{server}/{project}/describe", json={}, timeout=30,
                           headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


# --- the acceptance: reproduced after the run, on the broken server only -------------------------------------

def test_every_failed_case_has_a_script_and_the_summary_points_to_them(broken_run) -> None:
    out, proc = broken_run
    document = json.loads((out / "results.json").read_text())
    failed = sorted(r["id"] for r in document["results"] if r["outcome"] == "failed" and r["kind"] == "case")
    assert failed == sorted(FAILING)
    assert sorted(p.name for p in (out / "repro").iterdir()) == sorted(map(reproduction.script_name, FAILING))
    assert f"reproduction scripts: 2 in {out / 'repro'}/" in proc.stdout
    # Under each failure: the script to run, and the line that reruns the case keeping its objects.
    assert "python3 " + str(out / "repro" / reproduction.script_name(FAILING[0])) in proc.stdout
    assert "-k 'tags-types.yaml and tags-keep-insertion-order' --keep" in proc.stdout
    for token in TOKENS.values():
        for path in [out / "results.json", out / "report.html", *(out / "repro").iterdir()]:
            assert token not in path.read_text(), path


@pytest.mark.parametrize("case", FAILING)
def test_the_script_reproduces_on_the_broken_server_after_the_run(broken_run, broken_server, clean_server,
                                                                  case: str) -> None:
    out, _ = broken_run
    script = out / "repro" / reproduction.script_name(case)
    # The run cleaned up: the project the case worked in is gone, so the run's own IDs cannot be replayed.
    document = json.loads((out / "results.json").read_text())
    result = next(r for r in document["results"] if r["id"] == case)
    project = json.loads(result["exchanges"][0]["response"]["body"])["id"]
    assert not project_exists(broken_server, project)

    again = run_script(script, None)   # default: the run's server, still running, still broken
    assert again.returncode == 1, again.stdout + again.stderr
    assert re.search(r"^failing step: step \d+ answered (200|422); the run: 200$", again.stdout, re.M), again.stdout
    assert "REPRODUCED" in again.stdout
    # It made and removed its own project; the run's stays gone.
    made = re.search(r"destroyed (project-\w{24}), made by this replay", again.stdout)
    assert made and made.group(1) != project and not project_exists(broken_server, made.group(1))

    fixed = run_script(script, clean_server.url)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "not reproduced" in fixed.stdout and "<- differs" in fixed.stdout


def test_the_script_needs_the_tokens_of_its_users(broken_run) -> None:
    script = broken_run[0] / "repro" / reproduction.script_name(FAILING[0])
    proc = subprocess.run([sys.executable, str(script)], env=clean_environment(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "$DX_TOKEN_ALICE" in proc.stderr


def test_report_html_shows_the_rule_the_script_and_the_rerun_line(broken_run, broken_server) -> None:
    html = (broken_run[0] / "report.html").read_text()
    # The rule names the expectation that broke; the case keeps its title, labelled as the case.
    assert "step 2 expects $.tags equals [&quot;foo&quot;, &quot;othertag&quot;, &quot;third&quot;]: got []" in html
    assert "<td>case</td><td>Tags come back in the order added" in html
    assert "<details class='dx-repro'>" in html and "PLAN = {" in html
    assert f"href='repro/{reproduction.script_name(FAILING[0])}'" in html
    assert f"dxconform run --server {broken_server} -k &#x27;tags-types.yaml and" in html
    # The failing request's curl names whose token it needs.
    assert "$DX_TOKEN_ALICE" in html


# --- --keep ---------------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl on PATH")
def test_keep_leaves_the_project_and_prints_a_command_that_deletes_it(clean_server, tmp_path) -> None:
    proc = dxconform("run", "--server", clean_server.url, "--token", "alice-token", "--token2", "bob-token",
                     "-k", "tags-types.yaml and tags-keep-insertion-order", "--out", "out", "--keep",
                     cwd=tmp_path, env=clean_environment())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    (result,) = [r for r in document["results"] if r["kind"] == "case"]
    project = json.loads(result["exchanges"][0]["response"]["body"])["id"]
    record = json.loads(result["exchanges"][1]["response"]["body"])["id"]
    # No `finally` ran (the fixture's destroy is not among the exchanges) and no cleanup: the project is there.
    assert not any(e["request"]["path"].endswith("/destroy") for e in result["exchanges"])
    assert project_exists(clean_server.url, project)
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("kept (--keep): 1 project(s)"))
    assert f"  {project} (by alice): {record}" in lines[start + 1:]
    command = lines[lines.index(f"  {project} (by alice): {record}") + 1].strip()
    assert command.startswith(f"curl -sS -X POST {clean_server.url}/{project}/destroy")
    assert "alice-token" not in proc.stdout and "$DX_TOKEN_ALICE" in command
    deleted = subprocess.run(["sh", "-c", command], env={**clean_environment(), **TOKENS}, capture_output=True,
                             text=True, timeout=60)
    assert deleted.returncode == 0 and json.loads(deleted.stdout) == {"id": project}, deleted.stdout
    assert not project_exists(clean_server.url, project)


def test_keep_is_plumbed_to_the_plugin() -> None:
    import argparse

    from conformance.cli.run_cmd import add_run_options, pytest_arguments

    parser = argparse.ArgumentParser()
    add_run_options(parser)
    args = parser.parse_args(["--keep"])
    argv = pytest_arguments(args, [Path("cases")], "http://127.0.0.1:1", False, Path("out"))
    assert "--dx-keep" in argv
    assert "--dx-keep" not in pytest_arguments(parser.parse_args([]), [Path("cases")], "http://x", False, Path("o"))


# --- the parts: substitution, comparison, plan, names ---------------------------------------------------------

RUN_PROJECT, RUN_RECORD, RUN_RECORD2 = ("project-" + "B" * 24, "record-" + "F" * 24, "record-" + "G" * 24)
NEW_PROJECT, NEW_RECORD, NEW_RECORD2 = ("project-" + "J" * 24, "record-" + "K" * 24, "record-" + "P" * 24)


def test_ids_handed_out_by_earlier_answers_replace_the_runs_everywhere() -> None:
    subs = Substitutions("dxc-0123abcd", "dxc-89abcdef")
    assert subs.learn("id", RUN_PROJECT, NEW_PROJECT) is None
    assert subs.learn("id", RUN_RECORD, NEW_RECORD) is None
    assert subs.learn("id", RUN_RECORD, NEW_RECORD2) is None   # the first answer to hand it out wins
    assert subs.text(f"/{RUN_RECORD}/describe") == f"/{NEW_RECORD}/describe"
    body = json.dumps({"project": RUN_PROJECT, "name": "dxc-0123abcd-meta", "links": [f"{RUN_PROJECT}:{RUN_RECORD}"]})
    assert json.loads(subs.body(body)) == {"project": NEW_PROJECT, "name": "dxc-89abcdef-meta",
                                           "links": [f"{NEW_PROJECT}:{NEW_RECORD}"]}
    # An ID no answer of the replay handed out (a constant absent ID, the user's --project) stays as it was.
    absent = "file-B0000000000000000000000Q"
    assert subs.text(f"/{absent}/addTags") == f"/{absent}/addTags"
    # A body that is not JSON as json.dumps writes it keeps every byte but the IDs and the prefix.
    odd = '{"project":"' + RUN_PROJECT + '",  "tags": ["a"'
    assert subs.body(odd) == ('{"project":"' + NEW_PROJECT + '",  "tags": ["a"').encode()
    assert subs.learn("id", RUN_RECORD2, MISSING) == "nothing there in the replay's answer"


def test_urls_header_values_and_cursors_are_replaced_whole() -> None:
    subs = Substitutions()
    subs.learn("url", "http://run/upload/abc", "http://replay/upload/xyz")
    subs.learn("header", "run-signature", "replay-signature")
    subs.learn("next", {"project": RUN_PROJECT, "id": RUN_RECORD}, {"project": NEW_PROJECT, "id": NEW_RECORD})
    assert subs.string("http://run/upload/abc") == "http://replay/upload/xyz"
    assert subs.string("run-signature") == "replay-signature"
    sent = json.dumps({"limit": 10, "starting": {"project": RUN_PROJECT, "id": RUN_RECORD}})
    assert json.loads(subs.body(sent)) == {"limit": 10, "starting": {"project": NEW_PROJECT, "id": NEW_RECORD}}


def test_the_comparison_is_by_shape() -> None:
    subs = Substitutions("dxc-0123abcd", "dxc-89abcdef")
    subs.learn("id", RUN_RECORD, NEW_RECORD)
    assert same({"id": RUN_RECORD, "tags": []}, {"id": NEW_RECORD, "tags": []}, subs)
    assert not same({"tags": []}, {"tags": ["foo"]}, subs)
    assert not same({"id": RUN_RECORD}, {"id": NEW_RECORD, "extra": 1}, subs)
    assert same("dxc-0123abcd-tag", "dxc-89abcdef-tag", subs)
    # Timestamps: seconds against seconds alike, seconds against milliseconds not; an int is never a float.
    assert same(1796520896, 1796520999, subs) and not same(1796520896, 1796520896000, subs)
    assert not same(1796520896000, 1796520896000.5, subs) and not same(3, 4, subs)
    # A new ID (not learnt): any ID of its class, in the strict alphabet exactly when the run's was.
    assert same("record-" + "Q" * 24, "record-" + "V" * 24, subs)
    assert not same("record-" + "a" * 24, "record-" + "V" * 24, subs)
    assert not same(RUN_RECORD, "record-" + "V" * 24, subs)   # learnt: the replay's own only
    # Search results may come in the order of their random IDs.
    assert same([{"id": RUN_RECORD}, {"id": "record-" + "X" * 24}],
                [{"id": "record-" + "Z" * 24}, {"id": NEW_RECORD}], subs)
    assert not same(["a", "b"], ["b", "a"], subs)   # other lists keep their order


def test_a_walk_is_compared_on_its_totals() -> None:
    pages = [({"limit": 2}, {"results": [{"id": "a"}, {"id": "b"}], "next": "x"}),
             ({"limit": 2, "starting": "x"}, {"results": [{"id": "b"}], "next": None}),
             ({}, {"results": [{"id": "a"}, {"id": "b"}, {"id": "c"}]})]
    assert walk_summary(pages, "$.results[*].id") == {"pages": 2, "count": 3, "distinct": 2, "unpaged": 3}


def exchange(path: str, body: dict, status: int, answer: dict) -> dict:
    return {"request": {"method": "POST", "url": "http://run.invalid" + path, "path": path,
                        "headers": {"Content-Type": "application/json", "Authorization": "Bearer ***"},
                        "body": json.dumps(body)},
            "response": {"status": status, "headers": {"content-type": "application/json"},
                         "body": json.dumps(answer), "truncated": False}, "elapsed_ms": 1}


def sender(step: str, user: str | None = "alice", **more) -> dict:
    return {"step": step, "where": "cases/x.yaml:1", "user": user, **more}


FAKE = {
    "id": "cases/x.yaml::two-records", "title": "two records", "kind": "case", "outcome": "failed",
    "level": "MUST", "area": "semantics", "topic": "t", "profile": "core", "source": "https://docs.invalid/x",
    "message": "m", "routes": [],
    "exchanges": [exchange("/project/new", {"name": "dxc-0123abcd-p"}, 200, {"id": RUN_PROJECT}),
                  exchange("/record/new", {"project": RUN_PROJECT}, 200, {"id": RUN_RECORD}),
                  exchange("/record/new", {"project": RUN_PROJECT}, 200, {"id": RUN_RECORD2}),
                  exchange("/system/whoami", {}, 401, {"error": {"type": "InvalidAuthentication", "message": "m"}}),
                  exchange("/system/whoami", {}, 200, {"id": "user-bob"}),
                  exchange(f"/{RUN_RECORD2}/addTags", {"project": RUN_PROJECT, "tags": ["t"]}, 200,
                           {"id": RUN_RECORD2}),
                  exchange(f"/{RUN_RECORD2}/describe", {}, 200, {"id": RUN_RECORD2, "tags": []}),
                  exchange(f"/{RUN_PROJECT}/destroy", {}, 200, {"id": RUN_PROJECT})],
    "failure": {"phase": "step", "step": 6, "step_name": "", "fixture": "", "location": "cases/x.yaml:9",
                "method": "POST", "path": f"/{RUN_RECORD2}/describe", "exchange_index": 6, "error": "",
                "misses": [{"path": "$.tags", "matcher": "equals", "expected": ["t"], "actual": [], "text": "t"}]},
    "replay": {"senders": [sender("fixture f step 1"), sender("step 1"), sender("step 2"),
                           sender("step 3", token="not-a-token"), sender("step 4", user="bob"), sender("step 5"),
                           sender("step 6"), sender("finally 1")]},
}


def test_the_plan_maps_ids_by_the_answer_that_made_them() -> None:
    data = reproduction.plan(FAKE, "http://run.invalid")
    steps = data["steps"]
    # Up to and including the failing request: the `finally` destroy is not replayed.
    assert [s["path"] for s in steps] == [e["request"]["path"] for e in FAKE["exchanges"][:7]]
    # Each ID is read from the answer that handed it out, only where a later request (or the compared
    # value) uses it; the two records are told apart by the answer they came in.
    assert steps[0]["capture"] == [{"at": "$.id", "kind": "id", "run": RUN_PROJECT}]
    assert "capture" not in steps[1]        # the first record is never used again
    assert steps[2]["capture"] == [{"at": "$.id", "kind": "id", "run": RUN_RECORD2}]
    assert steps[3]["token"] == "not-a-token" and steps[4]["as"] == "bob"
    assert data["users"] == ["alice", "bob"] and data["run_prefix"] == "dxc-0123abcd"
    assert steps[-1]["failing"] and steps[-1]["compare"] == [{"at": "status", "run": 200},
                                                            {"at": "$.tags", "run": [], "expected": ["t"]}]


def test_the_script_replays_against_a_server(clean_server, tmp_path) -> None:
    """The fake case against the clean reference server: its requests go through, the substituted IDs are
    the server's (else the addTags and describe would answer 404), and the describe shows the tag: not
    reproduced. The bad token was sent as the case file wrote it (401), bob's from $DX_TOKEN_BOB (200)."""
    script = tmp_path / "x.py"
    script.write_text(reproduction.script_text(FAKE, clean_server.url, rule_of(FAKE)[0]))
    proc = run_script(script, None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^4/7 step 3 as a bad token: POST .*/system/whoami -> 401$", proc.stdout, re.M), proc.stdout
    assert re.search(r"^5/7 step 4 as bob: POST .*/system/whoami -> 200$", proc.stdout, re.M)
    assert re.search(r"^6/7 step 5 as alice: POST .*/record-\w{24}/addTags -> 200$", proc.stdout, re.M)
    assert re.search(r"^failing step: step 6 answered 200; the run: 200$", proc.stdout, re.M), proc.stdout
    assert RUN_RECORD2 not in proc.stdout.split("failing step")[0]


def test_the_rule_field_names_what_broke() -> None:
    text, source = rule_of(FAKE)
    assert text == "step 6 expects $.tags equals [\"t\"]: got []" and source == "https://docs.invalid/x"
    status = dict(FAKE, failure=dict(FAKE["failure"], misses=[
        {"path": "status", "matcher": "status", "expected": [401, 403], "actual": 200, "text": "t"}]))
    assert rule_of(status)[0] == "step 6 expects status 401 or 403: got 200"
    check = dict(FAKE, failure=dict(FAKE["failure"], phase="check", misses=[
        {"path": "$.created", "matcher": "timestamp_plausible", "expected": ">= 1", "actual": 5, "text": "t"}]))
    text, source = rule_of(check)
    assert text.startswith("check timestamp_plausible: Timestamps are milliseconds since the epoch")
    assert "at $.created" in text and source.startswith("https://documentation.dnanexus.com/")
    html = failure_html(check, server="http://run.invalid")
    assert "<td>rule</td><td>check timestamp_plausible" in html
    assert "<a href='https://documentation.dnanexus.com/developer/api/protocols'>" in html
    assert "<td>case</td><td>two records" in html


@pytest.mark.parametrize(("result_id", "expression"), [
    ("cases/semantics/metadata/tags-types.yaml::tags-keep-insertion-order",
     "tags-types.yaml and tags-keep-insertion-order"),
    ("cases/url-forms/absent-ids.yaml::absent-id-tags[/file-xxxx/addTags]",
     "absent-ids.yaml and absent-id-tags[/file-xxxx/addTags]"),
    ("cases/x/odd.yaml::a case (with) spaces", "odd.yaml and a and case and with and spaces"),
])
def test_the_rerun_line_selects_the_case(result_id: str, expression: str) -> None:
    command = reproduction.rerun_command(result_id, "http://h:1")
    assert shlex.split(command) == ["dxconform", "run", "--server", "http://h:1", "-k", expression, "--keep"]
    assert "--server" not in reproduction.rerun_command(result_id, "http://h:1", embedded=True)


def test_the_rerun_line_runs_the_one_case_with_brackets(tmp_path) -> None:
    """The bracketed id as the line quotes it selects that case and no other (pytest's -k accepts it)."""
    expression = reproduction.keyword_expression("cases/url-forms/absent-ids.yaml::absent-id-tags[/file-xxxx/addTags]")
    proc = dxconform("run", "-k", expression, "--out", "out", "--reruns", "0", cwd=tmp_path, env=clean_environment())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["id"] for r in document["results"] if r["kind"] == "case"] == [
        "cases/url-forms/absent-ids.yaml::absent-id-tags[/file-xxxx/addTags]"]


def test_script_names_are_safe_and_distinct() -> None:
    names = {reproduction.script_name(f"cases/a.yaml::x[{s}]") for s in ("/a/b", "/a_b", "a b")}
    assert len(names) == 3 and all(re.fullmatch(r"[A-Za-z0-9._-]+\.py", n) for n in names)
    assert reproduction.script_name("cases/a/b.yaml::c") == "cases_a_b.yaml__c.py"


def test_a_request_that_got_no_answer_reproduces_when_it_gets_none_again() -> None:
    hung = dict(FAKE, exchanges=[{**FAKE["exchanges"][0], "response": None,
                                  "error": {"kind": "timeout", "message": "no answer within 2 s"}}],
                failure=dict(FAKE["failure"], step=1, exchange_index=0, misses=[], error="timeout: no answer"),
                replay={"senders": [sender("step 1")]})
    (step,) = reproduction.plan(hung, "http://run.invalid")["steps"]
    assert step["error"] == "timeout" and step["failing"]
    subs = Substitutions()
    assert verdict(step, Answer(None, {}, b"", "TimeoutError: timed out"), subs)[0]
    assert not verdict(step, Answer(200, {}, b"{}"), subs)[0]
