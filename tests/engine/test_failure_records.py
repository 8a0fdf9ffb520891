"""A failed or errored case carries its failure as data, not only as a message.

Phase, step, file:line, method and path as sent, the index of the failing exchange, and each miss with its
path, matcher and both sides.
"""

from __future__ import annotations

import socket

from conformance.engine import run_case
from conformance.model import Failure, FailurePhase, Level, Outcome, Result

from .runner_support import case_of, faulty_server, session_for, write_suite
from .test_runner import HEADER, TAGS


def failing_path(result: Result) -> str:
    assert result.failure is not None and result.failure.exchange_index is not None
    return result.exchanges[result.failure.exchange_index].request.path


def test_a_missed_expectation_records_its_step_and_the_exchange_before_the_cleanup(tmp_path):
    suite = write_suite(tmp_path, TAGS)
    with faulty_server("tags-do-not-stick") as server, session_for(server.url, suite) as session:
        result = run_case(session, case_of(suite, "tags-stick"))
    failure = result.failure
    assert result.outcome == Outcome.FAILED and failure is not None
    assert (failure.phase, failure.step, failure.fixture, failure.method) == (FailurePhase.STEP, 3, "", "POST")
    assert failure.location.startswith("cases.yaml:") and failure.path.endswith("/describe")
    # The failing exchange is the describe, not the fixture's destroy that ran after it.
    assert failing_path(result) == failure.path and result.exchanges[-1].request.path.endswith("/destroy")
    [miss] = failure.misses
    assert (miss.path, miss.matcher, miss.expected, miss.actual) == ("$.tags", "equals", ["x", "y"], [])
    assert miss.text in result.message and not failure.error
    # The record survives results.json as it is.
    assert Failure.from_json(result.to_json()["failure"]) == failure


def test_a_check_finding_that_fails_the_case_is_a_check_failure(tmp_path):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: whoami
    title: whoami answers
    steps:
      - route: /system/greet
        body: {client: dxconform, version: "0.1"}
      - route: /system/whoami
        expect: {status: 200}
""")
    with faulty_server("text-plain-answers") as server, session_for(server.url, suite) as session:
        result = run_case(session, suite.cases[0])
    failure = result.failure
    assert result.outcome == Outcome.FAILED and failure is not None and failure.phase == FailurePhase.CHECK
    assert failure.step == 1 and failure.exchange_index == 0 and failure.path == "/system/greet"
    assert {miss.matcher for miss in failure.misses} >= {"json_content_type"}
    must = [f for f in result.findings if f.level == Level.MUST]
    # Every finding of a case names the exchange that drew it.
    assert {f.exchange_index for f in must} == {0, 1}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_transport_error_carries_a_failure_with_the_error_and_no_misses(tmp_path):
    suite = write_suite(tmp_path, TAGS)
    with session_for(f"http://127.0.0.1:{_closed_port()}", suite, timeout=2) as session:
        result = run_case(session, case_of(suite, "tags-stick"))
    failure = result.failure
    assert result.outcome == Outcome.ERROR and failure is not None
    assert failure.phase == FailurePhase.FIXTURE and failure.fixture.endswith("project") and failure.step == 1
    assert failure.misses == () and "refused" in failure.error
    assert failure.exchange_index == 0 and result.exchanges[0].request.path == "/project/new"


RUN_FIXTURE = HEADER + """
  broken_once:
    scope: run
    steps:
      - route: /system/whoami
        expect: {status: 418}
cases:
  - id: first
    title: sets the run fixture up
    uses: [broken_once]
    steps:
      - route: /system/whoami
  - id: second
    title: finds it broken
    uses: [broken_once]
    steps:
      - route: /system/whoami
"""


def test_a_broken_run_fixture_errors_every_case_that_uses_it(tmp_path, refserver):
    suite = write_suite(tmp_path, RUN_FIXTURE)
    with session_for(refserver.url, suite) as session:
        first = run_case(session, case_of(suite, "first"))
        second = run_case(session, case_of(suite, "second"))
    for result in (first, second):
        assert result.outcome == Outcome.ERROR and result.failure is not None
        assert result.failure.phase == FailurePhase.RUN_FIXTURE and result.failure.fixture.endswith("broken_once")
        assert [m.path for m in result.failure.misses] == ["status"]
    # Its exchange is recorded by the case that set it up only.
    assert failing_path(first) == "/system/whoami" and first.failure.exchange_index == 0
    assert second.failure.exchange_index is None and second.exchanges == []


def test_a_failed_cleanup_step_is_a_finally_failure(tmp_path, refserver):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: cleanup-fails
    title: the case passes, its cleanup does not
    uses: [project]
    steps:
      - route: /system/whoami
    finally:
      - route: /system/whoami
        expect: {status: 418}
""")
    with session_for(refserver.url, suite) as session:
        result = run_case(session, suite.cases[0])
    failure = result.failure
    assert result.outcome == Outcome.FAILED and result.message.startswith("cleanup failed:")
    assert failure is not None and (failure.phase, failure.step, failure.fixture) == (FailurePhase.FINALLY, 1, "")
    assert failure.exchange_index == 2 and result.exchanges[-1].request.path.endswith("/destroy")


def test_passed_and_skipped_cases_carry_no_failure(tmp_path, refserver):
    suite = write_suite(tmp_path, TAGS + """
  - id: applet
    title: an applet can be made
    profile: executables
    steps:
      - route: /applet/new
""")
    with session_for(refserver.url, suite, profiles=frozenset({"core"})) as session:
        assert run_case(session, case_of(suite, "tags-stick")).failure is None
        skipped = run_case(session, case_of(suite, "applet"))
    assert skipped.outcome == Outcome.SKIPPED and skipped.failure is None


def test_the_record_holds_no_token(tmp_path, refserver):
    suite = write_suite(tmp_path, HEADER + """
cases:
  - id: token-in-expectation
    title: a value compared with a token
    steps:
      - route: /system/whoami
        expect: {values: {$.id: alice-token}}
""")
    with session_for(refserver.url, suite) as session:
        result = run_case(session, suite.cases[0])
    assert result.failure is not None and result.failure.misses[0].expected == "***"
    assert "alice-token" not in str(result.to_json())
