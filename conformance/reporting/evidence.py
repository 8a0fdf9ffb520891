"""The evidence of one failure: which recorded exchange failed, and what was expected against what came back.

A check's finding carries its path, expected and actual values. A case step that missed its `expect` is
recorded in results.json only as its message (`step 2 POST /file-.../describe (f.yaml:9): $.tags: expected 1
elements, got 0`), in the engine's fixed wording: this module reads that wording back, and takes the actual
value at the failing path from the recorded answer itself.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Not recorded (distinct from a recorded JSON null).
MISSING: Any = type("NotRecorded", (), {"__repr__": lambda self: "<not recorded>", "__bool__": lambda self: False})()
# The parts of a JSON path as the engine writes them: .name, [0], ["odd key"]. (Kept here rather than imported
# from conformance.cases, which would load jsonschema's format checkers: seconds, for `dxconform compare`.)
_PATH_PART = re.compile(r'\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
# The engine's step label: "<phase> <n>[ [name]] <METHOD> <target> (<file>:<line>): <what missed>".
_STEP = re.compile(r"(?P<method>[A-Z]+) (?P<target>/\S*) \((?P<location>[^()]*:\d+)\): (?P<misses>.*)", re.S)
# Where the next miss starts, when several are joined with "; ".
_MISS_START = re.compile(r"; (?=status \d|error type |expected the error envelope|\$|schema |body |header |text "
                         r"|the answer is not JSON|cannot save |error\.message )")
_STATUS = re.compile(r"status (?P<actual>\d+), expected (?P<expected>\[[^\]]*\]|\d+|success \(2xx\))")
_ERROR_TYPE = re.compile(r"error type (?P<actual>'[^']*'|None), expected (?P<expected>\[[^\]]*\]|\S+)")
_ENVELOPE = re.compile(r"expected the error envelope with type (?P<expected>\[[^\]]*\]|\S+), got ")
_SCHEMA = re.compile(r"schema (?P<ref>\S+): (?P<path>\$\S*): (?P<message>.*)", re.S)
_AT_PATH = re.compile(r"(?:body )?(?P<path>\$[^\s:]*): (?P<message>.*)", re.S)
_EXPECTED_GOT = re.compile(r"expected (?P<expected>.+?), got (?P<actual>.+)$", re.S)
# What may follow the misses: "(+2 more)", then what reruns add ("(the same in all 3 attempts)").
_MORE = re.compile(r"(?: \(\+\d+ more\))?(?: \((?:the same in all \d+ attempts|attempts: [a-z, ]+)\))?$")


@dataclass(frozen=True)
class Difference:
    """Expected against actual at one place of an answer (`status` is the HTTP status, `$...` the body)."""

    path: str
    expected: Any
    actual: Any
    message: str
    rule: str             # the check that found it, or "expect" for the case's own expectation
    level: str = ""
    source: str = ""

    @property
    def actual_known(self) -> bool:
        return self.actual is not MISSING


def _literal(text: str) -> Any:
    """`[401, 403]`, `'InvalidInput'`, `422` as values; anything else stays text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _response_json(exchange: Mapping[str, Any] | None) -> Any:
    response = (exchange or {}).get("response") or {}
    try:
        return json.loads(response.get("body") or "")
    except (TypeError, ValueError):
        return MISSING


def _value_at(body: Any, path: str) -> Any:
    """The value at a JSON path of the recorded answer, or MISSING if it is not there (or not a path)."""
    if body is MISSING or not path.startswith("$"):
        return MISSING
    node, position = body, 1
    while position < len(path):
        found = _PATH_PART.match(path, position)
        if not found:
            return MISSING
        name, index, quoted = found.groups()
        if name is not None or quoted is not None:
            key = name if name is not None else json.loads(quoted)
            if not isinstance(node, dict) or key not in node:
                return MISSING
            node = node[key]
        elif isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        else:
            return MISSING
        position = found.end()
    return node


def _miss(text: str, exchange: Mapping[str, Any] | None) -> Difference:
    """One miss of the engine's wording as a Difference (unknown wording: the text, with no values)."""
    status = (exchange or {}).get("response") or {}
    body = _response_json(exchange)
    if found := _STATUS.match(text):
        expected = found["expected"]
        return Difference("status", _literal(expected) if expected[0] in "[0123456789" else expected,
                          int(found["actual"]), text, "expect")
    if found := _ERROR_TYPE.match(text):
        return Difference("$.error.type", _literal(found["expected"]), _literal(found["actual"]), text, "expect")
    if found := _ENVELOPE.match(text):
        actual = body if body is not MISSING else status.get("body", MISSING)
        return Difference("$.error", {"type": _literal(found["expected"]), "message": "(a string)"}, actual, text,
                          "expect")
    if found := _SCHEMA.match(text):
        return Difference(found["path"], f"valid against {found['ref']}: {found['message']}",
                          _value_at(body, found["path"]), text, "expect")
    if found := _AT_PATH.match(text):
        wanted = _EXPECTED_GOT.match(found["message"])
        expected = _literal(wanted["expected"]) if wanted else found["message"]
        return Difference(found["path"], expected, _value_at(body, found["path"]), text, "expect")
    return Difference("", text, MISSING, text, "expect")


def step_failure(message: str) -> tuple[str, str, list[str]] | None:
    """(method, path, [miss, ...]) of a message that names a failed step; None for any other message."""
    found = _STEP.search(message)
    if not found:
        return None
    misses = _MORE.sub("", found["misses"], count=1)
    return found["method"], found["target"], [part for part in _MISS_START.split(misses) if part]


def failing_exchange_index(result: Mapping[str, Any]) -> int | None:
    """Which recorded exchange failed: the last one of the step the message names; else the one whose
    answer holds a finding's actual value; else the last exchange that is not a cleanup."""
    exchanges = list(result.get("exchanges") or [])
    if not exchanges:
        return None
    step = step_failure(result.get("message") or "")
    if step:
        method, path, _ = step
        for index in range(len(exchanges) - 1, -1, -1):
            request = exchanges[index].get("request") or {}
            if request.get("method") == method and request.get("path") == path:
                return index
    for finding in result.get("findings") or []:
        if "actual" not in finding:
            continue
        needle = str(finding["actual"])
        for index, exchange in enumerate(exchanges):
            if needle and needle in str((exchange.get("response") or {}).get("body") or ""):
                return index
    working = [i for i, e in enumerate(exchanges) if not str((e.get("request") or {}).get("path", "")).endswith(
        "/destroy")]
    return (working or [len(exchanges) - 1])[-1]


def differences(result: Mapping[str, Any]) -> list[Difference]:
    """What the failure is about: the failed step's misses (if a step failed), then the MUST findings
    (or every finding, when none is at MUST)."""
    exchanges = list(result.get("exchanges") or [])
    index = failing_exchange_index(result)
    exchange = exchanges[index] if index is not None else None
    found: list[Difference] = []
    step = step_failure(result.get("message") or "")
    if step:
        found += [_miss(text, exchange) for text in step[2]]
    findings = [f for f in result.get("findings") or [] if not f.get("internal")]
    blocking = [f for f in findings if f.get("level") == "MUST"] or findings
    for finding in blocking:
        found.append(Difference(finding.get("path", ""), finding.get("expected", MISSING),
                                finding.get("actual", MISSING), finding.get("message", ""),
                                finding.get("check", ""), finding.get("level", ""), finding.get("source", "")))
    return found
