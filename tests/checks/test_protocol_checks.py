"""Each protocol check passes on a conforming synthetic exchange and fails on one that breaks its rule."""

from __future__ import annotations

import pytest

from conformance.checks import CHECKS, CheckContext, run_check
from conformance.model import Level

from .fakes import FILE_ID, JSON_HEADERS, FakeSpec, exchange

NOW_MS = 1_764_150_000_000
GOOD_DESCRIBE = {"id": FILE_ID, "size": 5, "created": NOW_MS - 1000, "modified": NOW_MS}


@pytest.fixture()
def ctx() -> CheckContext:
    return CheckContext(spec=FakeSpec(), now_ms=NOW_MS)


def findings(name, ctx, ex):
    return run_check(CHECKS[name], ctx, ex)


def test_json_content_type(ctx):
    assert findings("json_content_type", ctx, exchange(body=GOOD_DESCRIBE)) == []
    charset = exchange(headers={**JSON_HEADERS, "Content-Type": "application/json; charset=utf-8"})
    assert findings("json_content_type", ctx, charset) == []
    [bad] = findings("json_content_type", ctx, exchange(headers={"Content-Type": "text/html"}))
    assert bad.level is Level.MUST and bad.actual == "text/html" and "text/html" in bad.message
    [missing] = findings("json_content_type", ctx, exchange(headers={}))
    assert missing.expected == "application/json"


def test_json_parses(ctx):
    assert findings("json_parses", ctx, exchange(body={"a": 1})) == []
    [bad] = findings("json_parses", ctx, exchange(raw=b"<html>502</html>", status=502))
    assert bad.title == "Body is not JSON"
    # NaN is accepted by Python's json module but is not JSON.
    assert len(findings("json_parses", ctx, exchange(raw=b'{"a": NaN}'))) == 1
    # A body cut off by the transport is not judged as JSON (the transport error says why).
    assert findings("json_parses", ctx, exchange(raw=b'{"a": ', truncated=True)) == []


def test_top_level_mapping(ctx):
    assert findings("top_level_mapping", ctx, exchange(body={"id": FILE_ID})) == []
    [bad] = findings("top_level_mapping", ctx, exchange(body=[1, 2]))
    assert bad.path == "$" and bad.actual == "list"
    # getDetails answers the details themselves: an array is fine there.
    assert findings("top_level_mapping", ctx, exchange(body=[1], path=f"/{FILE_ID}/getDetails")) == []
    # Error answers are the envelope check's business.
    assert findings("top_level_mapping", ctx, exchange(status=422, body=[1])) == []


def test_nosniff(ctx):
    assert findings("nosniff", ctx, exchange()) == []
    [bad] = findings("nosniff", ctx, exchange(headers={"Content-Type": "application/json"}))
    assert bad.level is Level.SHOULD and bad.expected == "nosniff"


def test_retry_after(ctx):
    assert findings("retry_after", ctx, exchange(status=200)) == []
    ok = exchange(status=503, body={"error": {"type": "ServiceUnavailable", "message": "later"}},
                  headers={**JSON_HEADERS, "Retry-After": "5"})
    assert findings("retry_after", ctx, ok) == []
    [missing] = findings("retry_after", ctx, exchange(status=429))
    assert missing.actual is None
    dated = exchange(status=503, headers={**JSON_HEADERS, "Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})
    assert len(findings("retry_after", ctx, dated)) == 1


def test_no_server_error(ctx):
    assert findings("no_server_error", ctx, exchange(status=422)) == []
    assert findings("no_server_error", ctx, exchange(status=503)) == []
    [bad] = findings("no_server_error", ctx, exchange(status=500, body={"error": {"type": "InternalError",
                                                                                  "message": "boom"}}))
    assert bad.level is Level.MUST and bad.actual == 500
    invalid_input = CheckContext(spec=ctx.spec, valid_input=False)
    [softer] = findings("no_server_error", invalid_input, exchange(status=500))
    assert softer.level is Level.SHOULD


def test_error_envelope(ctx):
    good = exchange(status=422, body={"error": {"type": "InvalidInput", "message": "m", "details": {"x": 1}}})
    assert findings("error_envelope", ctx, good) == []
    assert findings("error_envelope", ctx, exchange(status=200, body={"id": FILE_ID})) == []
    [no_error] = findings("error_envelope", ctx, exchange(status=404, body={"message": "not found"}))
    assert no_error.path == "$"
    [no_message] = findings("error_envelope", ctx, exchange(status=404, body={"error": {"type": "ResourceNotFound"}}))
    assert no_message.path == "$.error.message"
    [empty_type] = findings("error_envelope", ctx, exchange(status=404, body={"error": {"type": "", "message": ""}}))
    assert empty_type.path == "$.error.type"
    [string_error] = findings("error_envelope", ctx, exchange(status=400, body={"error": "bad"}))
    assert string_error.path == "$.error"


def test_documented_error_type(ctx):
    good = exchange(status=404, body={"error": {"type": "ResourceNotFound", "message": "m"}})
    assert findings("documented_error_type", ctx, good) == []
    [bad] = findings("documented_error_type", ctx, exchange(status=404, body={"error": {"type": "NotFound",
                                                                                        "message": "m"}}))
    assert bad.actual == "NotFound" and "ResourceNotFound" in bad.expected
    # Without a spec there is no table to compare with.
    assert findings("documented_error_type", CheckContext(), exchange(status=404, body={"error": {
        "type": "NotFound", "message": "m"}})) == []


def test_error_status_level_follows_the_table(ctx):
    good = exchange(status=422, body={"error": {"type": "InvalidInput", "message": "m"}})
    assert findings("error_status", ctx, good) == []
    [must] = findings("error_status", ctx, exchange(status=400, body={"error": {"type": "InvalidInput",
                                                                               "message": "m"}}))
    assert (must.level, must.expected, must.actual) == (Level.MUST, 422, 400)
    [should] = findings("error_status", ctx, exchange(status=403, body={"error": {"type": "PermissionDenied",
                                                                                 "message": "m"}}))
    assert should.level is Level.SHOULD and "dxfuse only" in should.message
    # A type whose status nobody documented cannot mismatch.
    assert findings("error_status", ctx, exchange(status=402, body={"error": {"type": "OrgExpired",
                                                                             "message": "m"}})) == []
