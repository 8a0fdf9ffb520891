"""The data model: headers, redaction, JSON parsing that keeps fractions visible, results.json entries."""

from __future__ import annotations

import json

from conformance.model import (
    NOT_JSON,
    Area,
    Exchange,
    Finding,
    Headers,
    Level,
    Outcome,
    RawFloat,
    Request,
    Response,
    Result,
    TransportError,
    format_path,
    parse_json,
    redact_authorization,
)

CONTRACT_OUTCOMES = ["passed", "failed", "unsupported", "not-applicable", "skipped", "flaky", "error", "xfailed",
                     "xpassed"]
CONTRACT_AREAS = ["url-forms", "json-input", "json-output", "data-types", "auth", "semantics"]
CONTRACT_RESULT_KEYS = {"id", "title", "area", "topic", "level", "profile", "routes", "outcome", "message",
                        "source", "duration_ms", "exchanges"}


def test_enums_match_the_contract():
    assert [o.value for o in Outcome] == CONTRACT_OUTCOMES
    assert [a.value for a in Area] == CONTRACT_AREAS
    assert [lv.value for lv in Level] == ["MUST", "SHOULD", "MAY"]


def test_headers_are_case_insensitive_and_keep_names():
    headers = Headers([("Content-Type", "application/json"), ("X-A", "1")])
    assert headers["CONTENT-type"] == "application/json" and "x-a" in headers
    assert headers.get("missing") is None and list(headers) == ["Content-Type", "X-A"]


def test_authorization_is_redacted_on_the_way_in():
    request = Request("POST", "http://h/system/whoami", "/system/whoami",
                      Headers({"authorization": "Bearer abc123"}), b"{}")
    assert request.headers["Authorization"] == "Bearer ***"
    assert "abc123" not in json.dumps(request.to_json())
    assert redact_authorization("abc123") == "***" and redact_authorization("Basic x y") == "Basic ***"


def test_json_parsing_keeps_fractions_visible():
    assert parse_json(b'{"a": 1}') == ({"a": 1}, False)
    assert parse_json(b'{"a": 1.0}') == ({"a": 1.0}, True)
    assert parse_json(b'{"a": 1e3}')[1] is True
    assert parse_json(b"{") == (NOT_JSON, False) and parse_json(b"NaN")[0] is NOT_JSON
    assert parse_json(b"\xff")[0] is NOT_JSON
    response = Response(200, Headers(), b'{"a": [1, 2.50]}')
    raw = response.json_with_raw_numbers()["a"][1]
    assert isinstance(raw, RawFloat) and raw.raw == "2.50" and raw == 2.5
    assert response.json == {"a": [1, 2.5]} and response.has_fractional_numbers


def test_not_json_is_distinct_from_null():
    assert Response(200, Headers(), b"null").json is None
    assert Response(200, Headers(), b"").json is NOT_JSON and not NOT_JSON


def test_result_to_json_is_a_contract_entry():
    request = Request("POST", "http://h/x", "/x", Headers({"Authorization": "Bearer t"}), b"{}")
    exchange = Exchange(request, Response(200, Headers({"Content-Type": "application/json"}), b"{}"),
                        elapsed_ms=3, route="/system/whoami")
    failed = Exchange(request, None, TransportError("refused", "no"), elapsed_ms=1)
    finding = Finding("nosniff", Level.SHOULD, Area.JSON_OUTPUT, "src", "missing", path="$")
    result = Result(id="cases/a.yaml::b", title="t", area=Area.AUTH, topic="tokens", level=Level.MUST,
                    profile="core", outcome=Outcome.FAILED, source="s", routes=["/system/whoami"],
                    duration_ms=4, exchanges=[exchange, failed], findings=[finding])
    entry = json.loads(json.dumps(result.to_json()))
    assert CONTRACT_RESULT_KEYS <= set(entry)
    assert (entry["area"], entry["level"], entry["outcome"]) == ("auth", "MUST", "failed")
    assert entry["exchanges"][0]["request"]["headers"]["Authorization"] == "Bearer ***"
    assert entry["exchanges"][0]["response"]["status"] == 200
    assert entry["exchanges"][1]["response"] is None and entry["exchanges"][1]["error"]["kind"] == "refused"
    assert entry["findings"][0]["check"] == "nosniff" and entry["findings"][0]["level"] == "SHOULD"


def test_big_bodies_are_cut_in_records():
    response = Response(200, Headers(), b"x" * 100_000)
    assert len(response.to_json()["body"]) < 70_000 and "100000 bytes in all" in response.to_json()["body"]


def test_format_path():
    assert format_path(()) == "$"
    assert format_path(("a", 0, "b c", "1")) == '$.a[0]["b c"]["1"]'
