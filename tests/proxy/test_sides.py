"""The check registry carries a side: the client rules live apart, so the runner never runs them."""

from __future__ import annotations

import pytest

from conformance.checks import CHECKS, CLIENT_CHECKS, CheckContext, check, run_checks
from conformance.model import Area, Exchange, Headers, Level, Request, Response
from conformance.spec import load_spec

CLIENT_RULES = {"request_post", "request_route", "request_content_type", "request_json", "request_mapping",
                "input_schema"}


def exchange(body: bytes, method: str = "POST", path: str = "/system/whoami") -> Exchange:
    request = Request(method, "http://127.0.0.1:9" + path, path, Headers({"Content-Type": "application/json"}), body)
    answer = Response(200, Headers({"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"}),
                      b'{"id": "user-alice"}')
    return Exchange(request, answer)


def test_client_rules_are_registered_apart_with_their_side():
    assert CLIENT_RULES <= set(CLIENT_CHECKS) and not CLIENT_RULES & set(CHECKS)
    assert {info.side for info in CLIENT_CHECKS.values()} == {"client"}
    assert {info.side for info in CHECKS.values()} == {"server"}


def test_a_name_is_unique_across_sides():
    with pytest.raises(ValueError, match="registered twice"):
        check(name="request_json", level=Level.MUST, area=Area.JSON_INPUT, source="s", title="t")(lambda c, e: None)


def test_the_default_side_is_the_server():
    broken_request = exchange(b"{")
    context = CheckContext(spec=load_spec(), route="/system/whoami")
    assert run_checks(context, broken_request) == []
    assert {f.check for f in run_checks(context, broken_request, side="client")} == {"request_json"}
    assert run_checks(context, exchange(b"{}"), side="client") == []
