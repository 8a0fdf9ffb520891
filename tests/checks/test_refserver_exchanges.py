"""The checks on real HTTP exchanges with the reference server, sent through the engine's transport."""

from __future__ import annotations

import pytest

from conformance.checks import CheckContext, run_checks
from conformance.engine.transport import Transport
from conformance.spec import load_spec


@pytest.fixture()
def transport(refserver):
    with Transport(refserver.url, refserver.settings.users, timeout=10) as transport:
        yield transport


@pytest.fixture(scope="module")
def ctx() -> CheckContext:
    return CheckContext(spec=load_spec())


def test_whoami_passes_every_check(transport, ctx):
    exchange = transport.call("/system/whoami", user="alice")
    assert exchange.response.status == 200
    assert run_checks(ctx, exchange) == []


def test_malformed_json_answer_passes_every_check(transport, ctx):
    exchange = transport.call("/system/whoami", user="alice", raw_body=b"{not json")
    assert (exchange.response.status, exchange.response.json["error"]["type"]) == (400, "MalformedJSON")
    assert run_checks(ctx, exchange) == []


def test_bad_token_answer_passes_every_check(transport, ctx):
    exchange = transport.call("/system/whoami", user=None, token="no-such-token")
    assert exchange.response.status == 401
    assert run_checks(ctx, exchange) == []


def test_wrong_method_answer_passes_every_check(transport, ctx):
    exchange = transport.call("/system/whoami", user="alice", method="GET")
    assert exchange.response.status >= 400
    assert run_checks(ctx, exchange) == []


def test_project_lifecycle_answers_pass_every_check(transport, ctx):
    created = transport.call("/project/new", user="alice", json_body={"name": "checks"})
    project = created.response.json["id"]
    described = transport.call(f"/{project}/describe", user="alice")
    missing = transport.call("/project-B0000000000000000000000Q/describe", user="alice")
    assert missing.response.status == 404
    for exchange in (created, described, missing):
        assert run_checks(ctx, exchange) == [], exchange.to_json()


def test_headers_echo_never_shows_the_token(transport, refserver):
    exchange = transport.call("/system/headers", user="alice")
    recorded = str(exchange.to_json())
    assert refserver.settings.users["alice"] not in recorded
    assert "Bearer ***" in recorded
