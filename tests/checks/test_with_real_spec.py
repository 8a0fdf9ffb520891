"""The checks driven by the real spec in schemas/ (conformance.spec.load_spec) on synthetic answers."""

from __future__ import annotations

import json

import pytest

from conformance.checks import CHECKS, CheckContext, run_check, run_checks
from conformance.model import Level
from conformance.spec import load_spec

from .fakes import exchange

NOW_MS = 1_764_160_000_000


@pytest.fixture(scope="module")
def ctx() -> CheckContext:
    return CheckContext(spec=load_spec(), now_ms=NOW_MS)


@pytest.fixture(scope="module")
def describe_example() -> dict:
    """The first valid output example the spec itself carries for /file-xxxx/describe."""
    spec = load_spec()
    return spec.method_doc("/file-xxxx/describe")["x-examples"]["output"]["valid"][0]


def path_of(example):
    return f"/{example['id']}/describe"


def test_the_specs_own_example_passes_every_check(ctx, describe_example):
    assert run_checks(ctx, exchange(body=describe_example, path=path_of(describe_example))) == []


def test_strict_int_finds_a_fractional_timestamp_through_the_real_refs(ctx, describe_example):
    text = json.dumps(describe_example).replace(str(describe_example["created"]), f"{describe_example['created']}.0")
    ex = exchange(raw=text.encode(), path=path_of(describe_example))
    [finding] = run_check(CHECKS["strict_int"], ctx, ex)
    assert finding.path == "$.created" and finding.actual.endswith(".0")
    # JSON Schema's integer takes 1764150000000.0: only the strict-int check sees it.
    assert run_check(CHECKS["output_schema"], ctx, ex) == []


def test_timestamp_in_seconds_is_found_by_the_real_schema(ctx, describe_example):
    body = {**describe_example, "modified": describe_example["modified"] // 1000}
    [finding] = run_check(CHECKS["timestamp_plausible"], ctx, exchange(body=body, path=path_of(describe_example)))
    assert finding.path == "$.modified"


def test_loose_output_id_fails_the_real_output_schema(ctx, describe_example):
    body = {**describe_example, "id": "file-AEIOU0000000000000000000"}
    findings = run_check(CHECKS["output_schema"], ctx, exchange(body=body, path=path_of(describe_example)))
    assert findings and all(f.level is Level.MUST for f in findings)
    assert any(f.path == "$.id" for f in findings)


def test_real_error_table_levels(ctx):
    invalid = exchange(status=400, body={"error": {"type": "InvalidInput", "message": "m"}})
    [must] = run_check(CHECKS["error_status"], ctx, invalid)
    assert must.level is Level.MUST and must.expected == 422
    denied = exchange(status=403, body={"error": {"type": "PermissionDenied", "message": "m"}})
    [should] = run_check(CHECKS["error_status"], ctx, denied)
    assert should.level is Level.SHOULD and should.expected == 401
    made_up = exchange(status=404, body={"error": {"type": "NoSuchThing", "message": "m"}})
    assert [f.check for f in run_checks(ctx, made_up)] == ["documented_error_type"]
