"""The plain-text account of a failed or errored case, read from its records (never from its message).

Message, failing step, expected vs actual, findings, and the failing exchange: what pytest prints and junit.xml
keeps for a case.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..model import Failure, FailurePhase
from ..reporting.encodable import encodable
from ..reporting.evidence import failing_exchange_index, failure_of

SHOWN_BODY_CHARS = 600
SHOWN_FINDINGS = 8
SHOWN_MISSES = 8


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


def _failure_lines(failure: Failure) -> list[str]:
    """The failing step (or phase) and, unless the findings below say it, each miss: path, matcher, both sides."""
    where = f" {failure.method} {failure.path}" if failure.method or failure.path else ""
    lines = [f"failing step: {failure.place}{where}" + (f" ({failure.location})" if failure.location else "")]
    if failure.error:
        lines.append(f"  error: {failure.error}")
    if failure.phase == FailurePhase.CHECK:
        return lines
    for miss in failure.misses[:SHOWN_MISSES]:
        lines.append(f"  [{miss.matcher}] {miss.text}")
        lines.append(f"      expected: {_short(miss.expected)}")
        lines.append(f"      actual:   {'(nothing there)' if miss.actual_missing else _short(miss.actual)}")
    if len(failure.misses) > SHOWN_MISSES:
        lines.append(f"  ... {len(failure.misses) - SHOWN_MISSES} more in results.json")
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
    """What pytest prints for a failed case (and puts in junit.xml): no traceback, only the evidence: the
    failure record's step and misses, the checks' findings, and the exchange the record names."""
    lines = [f"{result.get('id')}: {result.get('title')}",
             f"{result.get('outcome')} [{result.get('level')} {result.get('area')}/{result.get('topic')}]: "
             f"{result.get('message')}",
             f"source: {result.get('source')}"]
    failure = failure_of(result)
    if failure is not None:
        lines.extend(_failure_lines(failure))
    findings = list(result.get("findings") or [])
    if findings:
        lines.append(f"check findings ({len(findings)}):")
        for finding in findings[:SHOWN_FINDINGS]:
            lines.extend(_finding_lines(finding))
        if len(findings) > SHOWN_FINDINGS:
            lines.append(f"  ... {len(findings) - SHOWN_FINDINGS} more in results.json")
    index = failing_exchange_index(result)
    if index is not None:
        lines.extend(_exchange_lines(result["exchanges"][index]))
    # The terminal may not encode what a server answered (a lone surrogate): escaped, never a crash.
    return encodable("\n".join(lines))
