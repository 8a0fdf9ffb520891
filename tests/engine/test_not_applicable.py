"""A check that found nothing to apply to is `not-applicable`, never `passed` (ledger and the checks' verdicts)."""

from __future__ import annotations

import json

from conformance.checks import CHECKS, CheckContext, apply_checks
from conformance.engine.ledger import CheckLedger
from conformance.model import Exchange, Headers, Outcome, Request, Response
from conformance.spec import load_spec

JSON = Headers({"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"})


def exchange(path: str, status: int, body: object) -> Exchange:
    return Exchange(Request("POST", "http://127.0.0.1:1" + path, path, body=b"{}"),
                    Response(status, JSON, json.dumps(body).encode()))


def _run(ex: Exchange, route: str):
    return apply_checks(CheckContext(spec=load_spec(), route=route), ex)


def test_rules_that_do_not_apply_to_an_answer_say_so() -> None:
    checked = _run(exchange("/system/whoami", 200, {"id": "user-alice"}), "/system/whoami")
    assert set(checked.looked) == set(CHECKS)
    not_applied = set(checked.looked) - set(checked.applied)
    # A 200 without numbers, timestamps or error: those rules had nothing to test.
    assert {"retry_after", "error_envelope", "error_status", "documented_error_type", "timestamp_plausible",
            "strict_int"} <= not_applied
    assert {"json_content_type", "json_parses", "no_server_error", "output_schema"} <= set(checked.applied)
    assert not checked.findings


def test_rules_that_apply_are_counted_as_applied() -> None:
    body = {"id": "database-B0000000000000000000000Q", "created": 1_700_000_000_000}
    # No output schema for this route: timestamps are found by their well-known keys.
    checked = _run(exchange("/database-B0000000000000000000000Q/describe", 200, body), "/database-xxxx/describe")
    assert {"timestamp_plausible", "strict_int", "strict_id_alphabet"} <= set(checked.applied)
    checked = _run(exchange("/system/whoami", 503, {"error": {"type": "ServiceUnavailable", "message": "x"}}),
                   "/system/whoami")
    assert "retry_after" in checked.applied and [f.check for f in checked.findings] == ["retry_after"]


def test_the_ledger_gives_not_applicable_for_a_check_that_never_applied() -> None:
    ledger = CheckLedger()
    ledger.record("/system/whoami", ["retry_after", "nosniff"], [], applied=["nosniff"])
    ledger.record("/system/whoami", ["retry_after", "nosniff"], [], applied=["nosniff"])
    outcomes = {r.id: (r.outcome, r.message) for r in ledger.results()}
    assert outcomes["checks/retry_after::/system/whoami"][0] == Outcome.NOT_APPLICABLE
    assert "none of the 2" in outcomes["checks/retry_after::/system/whoami"][1]
    assert outcomes["checks/nosniff::/system/whoami"][0] == Outcome.PASSED


def test_a_ledger_from_before_applicability_counts_every_exchange_as_applied() -> None:
    old = {"format": "dxconform-ledger/1", "entries": [
        {"check": "nosniff", "route": "/system/whoami", "profile": "core", "exchanges": 3, "findings": 0,
         "crashes": 0, "levels": {}, "first": None}]}
    assert CheckLedger.from_json(old).results()[0].outcome == Outcome.PASSED
