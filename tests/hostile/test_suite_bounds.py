"""The suite against hostile servers is bounded: memory and results.json (body budget), time (breaker, awaited
states that never come, --deadline), and it says honestly what it did not run.

Every run here is a `dxconform run` child process on loopback, scaled down for CI time (a subset of cases, a
small body budget, short timeouts and deadlines); the full-size figures were measured once by hand (issue 17).
"""

from __future__ import annotations

import json
import resource
import socket
import threading
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from tests.engine.hostile import HostileServer, answer
from tests.hostile.token_forms import assert_run_shows_no_token
from tests.suite.runs import Run, dxconform_run

# Tokens with characters that HTML, JSON and URLs escape: every run here must show no form of them (token_forms.py).
TOKEN, TOKEN2 = "bounds&test'token<1", "bounds-test-token-2"
TWO_MIB = 2 * 1024 * 1024
WHOAMI = b"POST /system/whoami "


def _user_of(request: bytes) -> bytes:
    return b"1" if TOKEN.encode() in request else b"2"


def _error_line(run: Run) -> str:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines, run.describe()
    return lines[-1]


def _outputs_parse(out: Path) -> dict:
    """results.json, junit.xml and report.html are there and parse; results.json's document."""
    document = json.loads((out / "results.json").read_text(encoding="utf-8"))
    ET.parse(out / "junit.xml")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") or "<html" in page[:200]
    HTMLParser().feed(page)
    return document


# --- memory and results.json: the body budget ----------------------------------------------------------------

def test_a_server_answering_2_mib_to_every_call_keeps_the_run_within_its_body_budget(tmp_path):
    pad = b"A" * TWO_MIB

    def two_mib(conn: socket.socket) -> None:
        # after the start-up probe (its two whoami calls read small answers only), every answer is a 2 MiB
        # JSON object, whose id still tells the two users apart
        request = server.requests[-1]
        padding = pad if len(server.requests) > 2 else b""
        body = b'{"id": "user-' + _user_of(request) + b'", "pad": "' + padding + b'"}'
        answer("200 OK", body, {"Content-Type": "application/json"})(conn)

    budget_mib = 4
    with HostileServer(two_mib) as server:
        run = dxconform_run(["--server", server.url, "--token", TOKEN, "--token2", TOKEN2, "--timeout", "5",
                             "--body-budget", str(budget_mib), "--reruns", "0",
                             "-k", "system.yaml or tokens.yaml or absent-id-no-input"], tmp_path / "out", timeout=120)
        answered = len(server.requests)
    assert run.returncode == 1, run.describe()
    assert "Traceback" not in run.stderr + run.stdout
    # The run's process (and its children) never held more than a few hundred MB: far below 1 GB, though
    # the server sent 2 MiB per call.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 1024, peak_mib
    document = _outputs_parse(run.out)
    exchanges = [e for r in document["results"] for e in r.get("exchanges") or []]
    # far more 2 MiB answers came than the budget holds
    assert answered * 2 > budget_mib + 20 and len(exchanges) > 10, (answered, len(exchanges))
    # Past the budget, an answer keeps its first KiB, the whole body's length and sha256.
    cut = [e["response"] for e in exchanges if (e.get("response") or {}).get("body_cut")]
    assert cut, "no body was cut: the budget was not exercised"
    marker = cut[-1]["body_cut"]
    assert marker["length"] > TWO_MIB and len(marker["sha256"]) == 64 and marker["kept"] == 1024
    assert len(cut[-1]["body"]) < 1100 and cut[-1]["body"].endswith(f"[{marker['length']} bytes in all]")
    # results.json holds the budget's worth of bodies, not 2 MiB (nor 64 KiB) per exchange.
    size = (run.out / "results.json").stat().st_size
    assert size < budget_mib * 1024 * 1024 + len(exchanges) * 8 * 1024, (size, len(exchanges))
    assert_run_shows_no_token(run, (TOKEN, TOKEN2))



# --- time: a server that stops answering trips the breaker ----------------------------------------------------

def test_a_server_that_stops_answering_after_the_probe_stops_the_run_with_exit_2_and_one_line(tmp_path):
    release = threading.Event()
    answered_probe: list[bytes] = []

    def silent_after_probe(conn: socket.socket) -> None:
        request = server.requests[-1]
        if request.startswith(WHOAMI) and len(answered_probe) < 2:
            answered_probe.append(request)
            answer("200 OK", b'{"id": "user-' + _user_of(request) + b'"}', {"Content-Type": "application/json"})(conn)
            return
        release.wait(60)   # never answers (the connection stays open until the test ends)

    timeout_s = 1.0
    try:
        with HostileServer(silent_after_probe) as server:
            run = dxconform_run(["--server", server.url, "--token", TOKEN, "--token2", TOKEN2,
                                 "--timeout", str(timeout_s), "--deadline", "120", "--reruns", "0",
                                 "-k", "system.yaml or tokens.yaml or lifecycle.yaml"], tmp_path / "out", timeout=120)
            unanswered = len(server.requests) - len(answered_probe)
    finally:
        release.set()
    assert run.returncode == 2, run.describe()
    assert "Traceback" not in run.stderr + run.stdout
    line = _error_line(run)
    assert line.startswith("dxconform: error: the run stopped: the server stopped answering"), line
    # Each unanswered call cost at most --timeout: with --timeout 30, the run would end within 5 minutes.
    assert unanswered * 30 <= 300, unanswered
    document = _outputs_parse(run.out)
    assert document["stopped"]["cause"] == "server-stopped-answering", document.get("stopped")
    not_run = [r for r in document["results"] if r.get("reason") == "server-stopped-answering"]
    assert not_run and {r["outcome"] for r in not_run} == {"skipped"}, not_run[:3]
    assert document["stopped"]["not_run"] == len(not_run)
    assert all(r["message"].startswith("not run: the server stopped answering") for r in not_run)
    assert_run_shows_no_token(run, (TOKEN, TOKEN2))



# --- time: an awaited state that never comes ------------------------------------------------------------------

WAIT_TIMEOUT_S = 2.0
WAITING_CASES = 6


def _waiting_suite(root: Path) -> Path:
    """A case directory: WAITING_CASES cases that each close a new file and wait for it to be closed."""
    cases = root / "cases"
    cases.mkdir()
    entries = "".join(f"""
  - id: wait-for-closed-{n}
    title: A closed file becomes closed ({n})
    area: semantics
    topic: lifecycle
    steps:
      - {{route: /file/new, body: {{project: "{{work_project}}", name: "{{run_prefix}}-{n}"}}, expect: {{status: 200}},
         save: {{file: $.id}}}}
      - {{route: "/{{file}}/close", expect: {{status: 200}}}}
      - {{route: "/{{file}}/describe", eventually: {{timeout: {WAIT_TIMEOUT_S:g}, interval: 0.2}},
         expect: {{values: {{$.state: closed}}}}}}
""" for n in range(1, WAITING_CASES + 1))
    (cases / "waits.yaml").write_text("defaults:\n  level: MUST\n  source: https://documentation.dnanexus.com/"
                                      "developer/api/introduction-to-data-object-classes/files\n\ncases:" + entries)
    return cases


def test_a_close_that_does_nothing_costs_a_few_waits_then_later_waits_fail_at_once(tmp_path):
    cases = _waiting_suite(tmp_path)
    run = dxconform_run(["--embedded-fault", "close-does-nothing", "--cases", str(cases), "--reruns", "0"],
                        tmp_path / "out", timeout=120)
    assert run.returncode == 1, run.describe()
    results = {r["id"].rsplit("::", 1)[-1]: r for r in run.items if r["kind"] == "case"}
    assert len(results) == WAITING_CASES and {r["outcome"] for r in results.values()} == {"failed"}, run.describe()
    waited = [r for r in results.values() if "did not hold within" in r["message"]]
    at_once = [r for r in results.values() if "failed at once, same cause as" in r["message"]]
    # two waits gave up (GIVE_UP_LIMIT); every later one failed at once, naming the first as its cause
    assert len(waited) == 2 and len(at_once) == WAITING_CASES - 2, [r["message"] for r in results.values()]
    first = min(waited, key=lambda r: r["id"])
    assert all(f"({first['id'].rsplit('::', 1)[-1]})" in r["message"] for r in at_once), at_once[0]["message"]
    assert all(r["duration_ms"] < WAIT_TIMEOUT_S * 1000 / 2 for r in at_once)
    # far faster than one full wait per case
    total_ms = sum(r["duration_ms"] for r in results.values())
    assert total_ms < WAITING_CASES * WAIT_TIMEOUT_S * 1000 * 0.6, total_ms
    assert_run_shows_no_token(run, ("dxref_",))   # the embedded server's random tokens



# --- time: --deadline ----------------------------------------------------------------------------------------

def _slow_suite(root: Path, count: int, wait_s: float) -> Path:
    """A case directory of `count` cases that each wait `wait_s` for a state that never comes (each a
    different one, so the memo of awaited states does not cut them short)."""
    cases = root / "cases"
    cases.mkdir()
    entries = "".join(f"""
  - id: slow-{n}
    title: A wait that never holds ({n})
    area: semantics
    topic: system
    steps:
      - {{route: /system/whoami, eventually: {{timeout: {wait_s:g}, interval: 0.25}},
         expect: {{values: {{$.id: never-{n}}}}}}}
""" for n in range(1, count + 1))
    (cases / "slow.yaml").write_text("defaults:\n  level: MUST\n  source: https://documentation.dnanexus.com/"
                                     "developer/api/system-methods\n\ncases:" + entries)
    return cases


def test_cases_not_started_by_the_deadline_are_skipped_with_reason_deadline_and_the_run_exits_2(tmp_path):
    count = 8
    cases = _slow_suite(tmp_path, count, wait_s=1.0)
    run = dxconform_run(["--cases", str(cases), "--deadline", "3", "--reruns", "0"], tmp_path / "out", timeout=120)
    assert run.returncode == 2, run.describe()
    assert "Traceback" not in run.stderr + run.stdout
    assert _error_line(run).startswith("dxconform: error: the run stopped: the run's deadline passed"), run.stderr
    document = _outputs_parse(run.out)
    cases_run = [r for r in document["results"] if r["kind"] == "case"]
    assert len(cases_run) == count
    late = [r for r in cases_run if r.get("reason") == "deadline"]
    ran = [r for r in cases_run if r.get("reason") != "deadline"]
    assert late and ran, [(r["id"], r["outcome"]) for r in cases_run]
    # honest: a case the deadline kept from running is skipped, never passed
    assert {r["outcome"] for r in late} == {"skipped"}
    assert all(r["message"].startswith("not run: the run's deadline passed") for r in late)
    assert document["stopped"] == {"cause": "deadline", "message": "the run's deadline passed",
                                   "not_run": len(late), "not_run_by_reason": {"deadline": len(late)}}
    assert document["summary"]["skipped"] >= len(late)
    # no verdict on a run that did not run everything: the report says it is incomplete
    page = (run.out / "report.html").read_text(encoding="utf-8")
    assert ">incomplete</span>" in page and "id='dx-gate'>the run stopped: the run&#x27;s deadline passed" in page
    assert_run_shows_no_token(run, ("dxref_",))   # the embedded server's random tokens
