"""Strict ints, plausible timestamps, strict-alphabet IDs and the output schema, on synthetic exchanges."""

from __future__ import annotations

import pytest

from conformance.checks import CHECKS, CheckContext, run_check
from conformance.model import Level

from .fakes import FILE_ID, PROJECT_ID, FakeSpec, exchange

NOW_MS = 1_764_150_000_000


@pytest.fixture()
def ctx() -> CheckContext:
    return CheckContext(spec=FakeSpec(), now_ms=NOW_MS)


def findings(name, ctx, ex):
    return run_check(CHECKS[name], ctx, ex)


def describe(raw_json: str):
    return exchange(raw=raw_json.encode())


def test_strict_int_passes_integers_and_real_numbers(ctx):
    assert findings("strict_int", ctx, describe(f'{{"id": "{FILE_ID}", "size": 5, "price": 0.005}}')) == []
    # A float where the schema says number, or where int|number is allowed, is fine.
    assert findings("strict_int", ctx, describe('{"ratio": 1.5, "price": 2.0}')) == []
    # int|null: null is fine.
    assert findings("strict_int", ctx, describe('{"limit": null}')) == []


@pytest.mark.parametrize("text", ["1.0", "1.5", "1e3", "5E+0", "-0.0"])
def test_strict_int_rejects_fraction_and_exponent(ctx, text):
    [bad] = findings("strict_int", ctx, describe(f'{{"size": {text}}}'))
    assert (bad.path, bad.actual, bad.level) == ("$.size", text, Level.MUST)


def test_strict_int_walks_refs_unions_maps_and_lists(ctx):
    body = '{"limit": 2.0, "parts": {"1": {"size": 5.0}}, "history": [{"setAt": 1764150000000.0}], "created": 1e12}'
    paths = sorted(f.path for f in findings("strict_int", ctx, describe(body)))
    assert paths == ["$.created", "$.history[0].setAt", "$.limit", '$.parts["1"].size']


def test_strict_int_is_not_applicable_without_a_schema(ctx):
    assert findings("strict_int", ctx, exchange(raw=b'{"size": 1.0}', path="/system/whoami")) == []


def test_timestamp_plausible(ctx):
    assert findings("timestamp_plausible", ctx, exchange(body={"created": NOW_MS, "modified": NOW_MS})) == []
    [seconds] = findings("timestamp_plausible", ctx, exchange(body={"created": NOW_MS // 1000}))
    assert seconds.path == "$.created" and "seconds" in seconds.message
    [future] = findings("timestamp_plausible", ctx, exchange(body={"modified": NOW_MS + 2 * 366 * 86400 * 1000}))
    assert future.path == "$.modified"
    [nested] = findings("timestamp_plausible", ctx, exchange(body={"history": [{"setAt": 5}]}))
    assert nested.path == "$.history[0].setAt"


def test_timestamp_plausible_without_schema_uses_created_and_modified(ctx):
    path = "/system/findProjects"
    good = exchange(body={"results": [{"describe": {"created": NOW_MS}}]}, path=path)
    assert findings("timestamp_plausible", ctx, good) == []
    [bad] = findings("timestamp_plausible", ctx, exchange(body={"results": [{"describe": {"created": 17}}]},
                                                          path=path))
    assert bad.path == "$.results[0].describe.created"
    # Details are client data: a "created" key there is none of the server's business.
    assert findings("timestamp_plausible", ctx, exchange(body={"details": {"created": 1}}, path=path)) == []


def test_strict_id_alphabet(ctx):
    assert findings("strict_id_alphabet", ctx, exchange(body={"id": FILE_ID, "project": PROJECT_ID})) == []
    loose = "file-AEIOU0000000000000000000"
    [bad] = findings("strict_id_alphabet", ctx, exchange(body={"results": [{"id": loose}]}))
    assert bad.level is Level.SHOULD and bad.path == "$.results[0].id" and bad.actual == loose
    # An ID the client sent is echoed, not generated: not the server's fault.
    assert findings("strict_id_alphabet", ctx, exchange(body={"project": loose}, request_body={"project": loose})) == []
    # Client data (details, names, properties) may hold any string.
    assert findings("strict_id_alphabet", ctx, exchange(body={"details": {"x": loose}, "name": loose})) == []
    assert findings("strict_id_alphabet", ctx, exchange(body={"x": loose}, path=f"/{FILE_ID}/getDetails")) == []


def test_output_schema(ctx):
    assert findings("output_schema", ctx, exchange(body={"id": FILE_ID, "size": 3})) == []
    bad = findings("output_schema", ctx, exchange(body={"id": "file-AEIOU0000000000000000000", "size": "3"}))
    assert len(bad) == 2 and all(f.level is Level.MUST for f in bad)
    assert all(f.message.startswith("/file-xxxx/describe: ") for f in bad)
    # No schema for the route: nothing to validate against.
    assert findings("output_schema", ctx, exchange(body=[], path="/system/whoami")) == []
    # Errors are not outputs.
    assert findings("output_schema", ctx, exchange(status=404, body={"error": {"type": "x", "message": ""}})) == []
