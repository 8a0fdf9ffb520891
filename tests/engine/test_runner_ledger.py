"""The check ledger: per (check, route) results, JSON-able and mergeable across xdist workers."""

from __future__ import annotations

import json

from conformance.engine import CheckLedger, run_case
from conformance.model import Area, Finding, Level, Outcome

from .runner_support import faulty_server, session_for, write_suite

WHOAMI = """
defaults: {area: url-forms, topic: engine, level: MUST, source: tests/engine}
cases:
  - id: whoami
    title: whoami answers
    steps:
      - route: /system/whoami
      - route: /system/whoami
        skip_checks: [nosniff]
      - route: /system/noSuchMethod
        expect: {status: 404, error: ResourceNotFound}
"""


def _finding(check: str, level: Level = Level.MUST) -> Finding:
    return Finding(check=check, level=level, area=Area.JSON_OUTPUT, source="s", message=f"{check} broke")


def test_every_check_that_ran_gets_a_result_per_route(tmp_path, refserver):
    suite = write_suite(tmp_path, WHOAMI)
    with session_for(refserver.url, suite) as session:
        run_case(session, suite.cases[0])
        data = session.ledger.to_json()
        results = {r.id: r for r in session.ledger.results()}
    entries = {(e["check"], e["route"]): e for e in data["entries"]}
    assert entries[("json_content_type", "/system/whoami")]["exchanges"] == 2
    assert entries[("nosniff", "/system/whoami")]["exchanges"] == 1  # skipped once
    assert ("json_content_type", "(no route)") in entries  # an unknown method is still checked
    result = results["checks/json_content_type::/system/whoami"]
    assert (result.outcome, result.level, result.area, result.topic) == (
        Outcome.PASSED, Level.MUST, Area.JSON_OUTPUT, "checks")
    assert result.source and result.profile == "core"
    assert all(r.outcome in (Outcome.PASSED, Outcome.NOT_APPLICABLE) for r in results.values())
    # whoami answered 200 only: the error rules found nothing to apply to on that route.
    assert results["checks/error_envelope::/system/whoami"].outcome == Outcome.NOT_APPLICABLE
    assert results["checks/error_envelope::(no route)"].outcome == Outcome.PASSED


def test_a_failed_check_result_counts_and_keeps_the_first_evidence(tmp_path):
    suite = write_suite(tmp_path, WHOAMI)
    with faulty_server("no-nosniff") as server, session_for(server.url, suite) as session:
        run_case(session, suite.cases[0])
        result = next(r for r in session.ledger.results() if r.id == "checks/nosniff::/system/whoami")
    assert result.outcome == Outcome.FAILED and result.level == Level.SHOULD
    assert result.message.startswith("1 finding(s) in 1 exchange(s); first: X-Content-Type-Options")
    assert [f.check for f in result.findings] == ["nosniff"]


def test_ledgers_merge_through_plain_json():
    worker_1, worker_2 = CheckLedger(), CheckLedger()
    worker_1.record("/system/whoami", ["json_parses", "error_envelope"], [])
    worker_2.record("/system/whoami", ["json_parses", "error_envelope"], [_finding("json_parses")])
    worker_2.record("/file-xxxx/close", ["json_parses"], [], profile="core")
    controller = CheckLedger()
    for worker in (worker_1, worker_2):
        controller.merge(json.loads(json.dumps(worker.to_json())))
    results = {r.id: r for r in controller.results()}
    assert set(results) == {"checks/json_parses::/system/whoami", "checks/error_envelope::/system/whoami",
                            "checks/json_parses::/file-xxxx/close"}
    parses = results["checks/json_parses::/system/whoami"]
    assert parses.outcome == Outcome.FAILED and "1 finding(s) in 2 exchange(s)" in parses.message
    assert results["checks/error_envelope::/system/whoami"].outcome == Outcome.PASSED
    assert CheckLedger.from_json(controller.to_json()).to_json() == controller.to_json()


def test_a_crashing_check_is_an_error_not_a_failure():
    ledger = CheckLedger()
    crash = Finding(check="json_parses", level=Level.MUST, area=Area.JSON_OUTPUT, source="s",
                    message="ValueError: oops", internal=True)
    ledger.record("/system/whoami", ["json_parses"], [crash])
    [result] = ledger.results()
    assert result.outcome == Outcome.ERROR and "crashed 1 time" in result.message
