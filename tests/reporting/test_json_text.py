"""The outputs' JSON text: the standard library's exact text, and scrubbed of tokens exactly as scrubbing as data is."""

from __future__ import annotations

import base64
import json
import math

import pytest

from conformance.model import REDACTED
from conformance.redaction import Redactor, redactor
from conformance.reporting.encodable import ERRORS
from conformance.reporting.json_text import may_hold_token, scrubbed_text, write_indented
from conformance.reporting.results_json import write_document

TOKEN = "tok-Zq3kF9sLmN2pQ7rT5vW8xY1z"

AWKWARD = {
    "numbers": [0, -0.0, 1e16, 1e22, 1e-07, 5e-324, 123456789.123456789, 10 ** 30, -(10 ** 40), 0.1, 1.5],
    "strings": ["\u0000\u001f\u007f", "\u2028\u2029", "é😀", '"quoted" \\ back/slash', "\n\t\b\f\r", ""],
    "empty": [[], {}, [[]], [{}], {"a": {}}],
    "keys": {1: "int key", 2.5: "float key", False: "bool key", None: "null key", "é": "non-ASCII key"},
    "tuple": (1, "two", (3,)),
    "nested": {"deep": [{"a": [{"b": None, "c": True, "d": False}]}]},
    "other": object,   # written as its str() (default=str)
}


@pytest.mark.parametrize("value", [AWKWARD, [], {}, "text", 1, None, [1, [2, [3]]], {"nan": math.nan},
                                   {"inf": [math.inf, -math.inf]}, {"surrogate": "a\udc00b"},
                                   {"results": [{"a": [1, {}]}, {}, [], {"n": math.nan, "s": "a\udc00b\n"}],
                                    "empty": [], "summary": {"k": {"l": [[]]}}}],
                         ids=["awkward", "empty-list", "empty-dict", "string", "number", "null", "nested", "nan",
                              "infinity", "lone-surrogate", "streamed-pieces"])
def test_written_indented_is_the_standard_librarys_text_exactly(value, tmp_path):
    path = tmp_path / "out.json"
    write_indented(path, value, redactor([]))
    expected = json.dumps(value, indent=1, ensure_ascii=False, default=str) + "\n"
    assert path.read_bytes() == expected.encode("utf-8", errors=ERRORS)


def indented(value) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False, default=str)


def _forms(token: str) -> list[str]:
    """A token as a server might echo it inside a string: plain, reversed, base64 at three offsets, escaped."""
    return [token, token[::-1], *(base64.b64encode(b"x" * k + token.encode()).decode() for k in range(3)),
            token.replace("-", "\\u002d"), token.replace("-", "%2D")]


@pytest.mark.parametrize("form", range(7))
def test_a_token_in_any_form_is_scrubbed_as_scrubbing_as_data_does(form):
    scrubber = redactor([TOKEN])
    echoed = _forms(TOKEN)[form]
    value = {"message": f"the server said {echoed}!", f"key {echoed}": [1, {"nested": echoed}], "other": 2}
    for dump in (json.dumps, indented):
        text = scrubbed_text(value, scrubber, dump)
        assert text == dump(scrubber.scrub_json(value))
        assert TOKEN not in text and REDACTED in text


def test_a_value_without_a_token_is_dumped_once_and_as_it_is(monkeypatch):
    scrubber = redactor([TOKEN])
    value = {"message": "nothing secret here", "ids": ["project-" + "B" * 24]}
    monkeypatch.setattr(Redactor, "scrub_json", lambda self, v: pytest.fail("scrubbed as data needlessly"))
    assert scrubbed_text(value, scrubber, indented) == indented(value)


@pytest.mark.parametrize("token", ["ab", "!!!!!!!!!", "a-b-c-d-e-f-g-h"])
def test_short_and_punctuation_tokens_are_scrubbed_too(token):
    scrubber = redactor([token])
    value = {"m": f"x {token} y", "n": [token[::-1]]}
    assert scrubbed_text(value, scrubber, json.dumps) == json.dumps(scrubber.scrub_json(value))


def test_may_hold_token_is_false_only_when_no_form_can_be_there():
    scrubber = redactor([TOKEN])
    assert not may_hold_token(scrubber, json.dumps({"a": "nothing"}))
    assert not may_hold_token(redactor([]), TOKEN)
    for echoed in _forms(TOKEN):
        assert may_hold_token(scrubber, json.dumps({"a": echoed}))
    assert may_hold_token(redactor(["!!!!!!!!!"]), "{}")   # no letter or digit to look for: always scrubbed


def test_results_json_is_written_as_before(tmp_path):
    """results.json: the same bytes the standard library's indent=1 dump of the scrubbed document gives."""
    document = {"format": "dxconform-results/2", "results": [{"id": "a", "message": f"echo {TOKEN}"}], **AWKWARD}
    written = write_document(tmp_path / "results.json", document, [TOKEN]).read_text(encoding="utf-8")
    expected = json.dumps(redactor([TOKEN]).scrub_json(document), indent=1, ensure_ascii=False, default=str)
    assert written == expected + "\n"
