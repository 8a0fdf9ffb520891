"""The plain-text account of a failed or errored case: message, failing step, expected vs actual, findings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SHOWN_BODY_CHARS = 600
SHOWN_FINDINGS = 8


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= SHOWN_BODY_CHARS else text[:SHOWN_BODY_CHARS] + f"... [{len(text)} chars]"


def _finding_lines(finding: Mapping[str, Any]) -> list[str]:
    lines = [f"  [{finding.get('level')}] {finding.get('check')}: {finding.get('message')}"]
    if finding.get("path"):
        lines.append(f"      at {finding['path']}")
    if "expected" in finding:
        lines.append(f"      expected: {_short(finding['expected'])}")
    if "actual" in finding:
        lines.append(f"      actual:   {_short(finding['actual'])}")
    if finding.get("source"):
        lines.append(f"      source: {finding['source']}")
    return lines


def _exchange_lines(exchange: Mapping[str, Any]) -> list[str]:
    request, response = exchange.get("request") or {}, exchange.get("response")
    lines = [f"exchange: {request.get('method')} {request.get('path')}"
             + (f" -> {response.get('status')} ({exchange.get('elapsed_ms', 0)} ms)" if response else " -> no answer")]
    if request.get("body"):
        lines.append(f"  sent: {_short(request['body'])}")
    if response:
        lines.append(f"  got:  {_short(response.get('body', ''))}")
    if exchange.get("error"):
        lines.append(f"  transport: [{exchange['error'].get('kind')}] {exchange['error'].get('message')}")
    return lines


def failure_text(result: Mapping[str, Any]) -> str:
    """What pytest prints for a failed case (and puts in junit.xml): no traceback, only the evidence.

    The engine's message names the failing step (`step 2 POST /{file}/close (file:line): ...`) and what it
    missed at which path; the findings carry the checks' expected-vs-actual."""
    lines = [f"{result.get('id')}: {result.get('title')}",
             f"{result.get('outcome')} [{result.get('level')} {result.get('area')}/{result.get('topic')}]: "
             f"{result.get('message')}",
             f"source: {result.get('source')}"]
    findings = list(result.get("findings") or [])
    if findings:
        lines.append(f"check findings ({len(findings)}):")
        for finding in findings[:SHOWN_FINDINGS]:
            lines.extend(_finding_lines(finding))
        if len(findings) > SHOWN_FINDINGS:
            lines.append(f"  ... {len(findings) - SHOWN_FINDINGS} more in results.json")
    exchange = failing_exchange(result)
    if exchange is not None:
        lines.extend(_exchange_lines(exchange))
    return "\n".join(lines)


def failing_exchange(result: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The exchange of the step the message names (`... POST /file-xx/close (...)`), else the last one:
    the last is often a `finally` cleanup call, which says nothing about the failure."""
    exchanges = list(result.get("exchanges") or [])
    message = str(result.get("message", ""))
    for exchange in reversed(exchanges):
        request = exchange.get("request") or {}
        if f"{request.get('method')} {request.get('path')} " in message:
            return exchange
    return exchanges[-1] if exchanges else None
