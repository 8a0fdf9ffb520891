"""The rules only generated input can test, beside the protocol checks: invalid input is rejected with a
documented error, and every call gets an answer. They produce the same Finding records as the checks."""

from __future__ import annotations

from ..model import NOT_JSON, Area, Exchange, Finding, Level
from .steps import Step

VALIDATION_SOURCE = ("https://documentation.dnanexus.com/developer/api/protocols (InvalidInput: the input "
                     "does not match the method's documented input); schemas/methods input schemas")


def _finding(rule: str, level: Level, area: Area, title: str, message: str, **evidence) -> Finding:
    return Finding(check=rule, level=level, area=area, source=VALIDATION_SOURCE, title=title, message=message,
                   **evidence)


def fuzz_rule_findings(step: Step, exchange: Exchange, documented: frozenset[str]) -> list[Finding]:
    """Findings of the fuzz-only rules on one exchange of a fuzzed step."""
    response = exchange.response
    if response is None:
        return [_finding("answers_every_call", Level.MUST, Area.SEMANTICS, "The server gave no answer",
                         f"no answer: {exchange.error.kind if exchange.error else 'unknown'}: "
                         f"{exchange.error.message if exchange.error else ''}"[:300])]
    if step.violation is None:
        return []
    if response.status < 400:
        return [_finding("rejects_invalid_input", Level.MUST, Area.JSON_INPUT, "Invalid input was accepted",
                         f"{step.route} answered {response.status} to input that breaks a documented "
                         f"constraint ({step.violation})", expected="4xx", actual=response.status)]
    if response.status >= 500:
        return []  # no_server_error reports it
    body = response.json
    error = body.get("error") if isinstance(body, dict) and body is not NOT_JSON else None
    kind = error.get("type") if isinstance(error, dict) else None
    if isinstance(kind, str) and kind not in documented:
        return [_finding("rejection_error_type", Level.SHOULD, Area.JSON_OUTPUT,
                         "Invalid input was rejected with an error type the method does not document",
                         f"{step.route} rejected invalid input ({step.violation}) with {kind}",
                         expected=sorted(documented), actual=kind)]
    return []
