"""The failures section of report.html: per failure its rule, source, level, the failing request and answer,
the expected-vs-actual difference at the failing path, and curl and dxpy commands that reproduce it."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from .evidence import Difference, differences, failing_exchange_index
from .html_kit import coloured, esc, shown_json
from .repro import curl_command, dxpy_snippet
from .tallies import FAILING

# Failures shown in full; past this many a failure gets one line (results.json has the rest).
DETAILED_FAILURES = 300
SHOWN_BODY_CHARS = 6000


def failure_anchor(result_id: str) -> str:
    """The id of a failure's block: stable, and safe in an HTML id and a URL fragment."""
    return "dx-failure-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in result_id)


def failures_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The results that count against the server (failed, error): MUST first, then by id."""
    order = {"MUST": 0, "SHOULD": 1, "MAY": 2}
    found = [r for r in document["results"] if r["outcome"] in FAILING]
    return sorted(found, key=lambda r: (order.get(r["level"], 3), r.get("kind") == "check", r["id"]))


def _link(source: str) -> str:
    if source.startswith(("https://", "http://")):
        url = source.split(" ", 1)[0]
        return f"<a href='{esc(url)}'>{esc(source)}</a>"
    return esc(source)


def _cut(text: Any) -> str:
    text = str(text or "")
    return text if len(text) <= SHOWN_BODY_CHARS else text[:SHOWN_BODY_CHARS] + f"\n... [{len(text)} chars in all]"


def _exchange_text(exchange: Mapping[str, Any]) -> tuple[str, str]:
    request, response = exchange.get("request") or {}, exchange.get("response")
    sent = "\n".join([f"{request.get('method', '')} {request.get('url', '')}"]
                     + [f"{k}: {v}" for k, v in (request.get("headers") or {}).items()]
                     + ["", _cut(request.get("body", ""))])
    if response:
        got = "\n".join([f"HTTP {response.get('status')} ({exchange.get('elapsed_ms', 0)} ms)"
                         + (" [cut off]" if response.get("truncated") else "")]
                        + [f"{k}: {v}" for k, v in (response.get("headers") or {}).items()]
                        + ["", _cut(response.get("body", ""))])
    else:
        got = "no answer"
    if exchange.get("error"):
        got += f"\n[{exchange['error'].get('kind')}] {exchange['error'].get('message')}"
    return sent, got


def _unified(expected: Any, actual: Any) -> str:
    """A line diff of two JSON values (only for objects and arrays; scalars read fine side by side)."""
    if not isinstance(expected, dict | list) or not isinstance(actual, dict | list):
        return ""
    lines = difflib.unified_diff(shown_json(expected).splitlines(), shown_json(actual).splitlines(),
                                 "expected", "actual", lineterm="", n=2)
    shown = []
    for line in lines:
        kind = "del" if line.startswith("-") else "ins" if line.startswith("+") else ""
        shown.append(f"<span class='{kind}'>{esc(line)}</span>" if kind else esc(line))
    return f"<pre class='udiff'>{chr(10).join(shown)}</pre>" if shown else ""


def differences_html(found: Sequence[Difference]) -> str:
    if not found:
        return "<p class='muted'>No structured difference was recorded; see the message and the answer.</p>"
    rows = []
    for diff in found:
        rule = esc(diff.rule) + (f" ({esc(diff.level)})" if diff.level else "")
        rule += f"<br><span class='muted'>{_link(diff.source)}</span>" if diff.source else ""
        rows.append(f"<tr><td><code>{esc(diff.path or '-')}</code></td><td>{rule}</td>"
                    f"<td><pre>{esc(shown_json(diff.expected))}</pre></td>"
                    f"<td><pre>{esc(shown_json(diff.actual))}</pre>{_unified(diff.expected, diff.actual)}</td></tr>")
    return ("<table class='diff'><tr><th>at</th><th>rule</th><th>expected</th><th>actual</th></tr>"
            + "".join(rows) + "</table>")


def _evidence_case(result: Mapping[str, Any], cases: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """For a failed check: the first case whose exchanges on that route drew a finding of that check."""
    check = result["id"].split("::", 1)[0].removeprefix("checks/")
    routes = set(result.get("routes") or [])
    for case in cases:
        if any(f.get("check") == check for f in case.get("findings") or []) and any(
                e.get("route") in routes for e in case.get("exchanges") or []):
            return case
    return None


def _exchange_block(exchange: Mapping[str, Any]) -> str:
    sent, got = _exchange_text(exchange)
    request = exchange.get("request") or {}
    return (f"<h4>request</h4><pre>{esc(sent)}</pre><h4>response</h4><pre>{esc(got)}</pre>"
            "<h4>reproduce with curl</h4><p class='muted'>export DX_TOKEN first (the token of the user the step "
            f"ran as); the command reads it from the environment.</p><pre>{esc(curl_command(request))}</pre>"
            f"<h4>reproduce with dxpy</h4><pre>{esc(dxpy_snippet(request))}</pre>")


def _other_exchanges(exchanges: Sequence[Mapping[str, Any]], failing: int | None) -> str:
    if len(exchanges) < 2:
        return ""
    rows = []
    for index, exchange in enumerate(exchanges):
        request, response = exchange.get("request") or {}, exchange.get("response") or {}
        mark = " &larr; failed here" if index == failing else ""
        rows.append(f"<tr><td class='n'>{index + 1}</td><td>{esc(request.get('method', ''))} "
                    f"<code>{esc(request.get('path', ''))}</code>{mark}</td>"
                    f"<td class='n'>{esc(response.get('status', '-'))}</td></tr>")
    return (f"<details><summary>all {len(exchanges)} exchanges of this case</summary><table>"
            "<tr><th>#</th><th>request</th><th>status</th></tr>" + "".join(rows) + "</table></details>")


def failure_html(result: Mapping[str, Any], cases: Sequence[Mapping[str, Any]]) -> str:
    """One failure in full: what the rule is, where it comes from, and the evidence."""
    meta = [("result", f"<code>{esc(result['id'])}</code> ({esc(result.get('kind', 'case'))})"),
            ("rule", esc(result.get("title", ""))), ("level", esc(result["level"])),
            ("area / topic", f"{esc(result['area'])} / {esc(result.get('topic', ''))}"),
            ("profile", esc(result["profile"])), ("source", _link(str(result.get("source", "")))),
            ("outcome", coloured(result["outcome"])), ("message", f"<code>{esc(result.get('message', ''))}</code>")]
    parts = ["<table class='meta'>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in meta) + "</table>",
             "<h4>expected against actual</h4>", differences_html(differences(result))]
    exchanges = list(result.get("exchanges") or [])
    evidence = result
    if not exchanges and result.get("kind") == "check":
        case = _evidence_case(result, cases)
        if case is not None:
            name = f"<code>{esc(case['id'])}</code>"
            if case["outcome"] in FAILING:   # only failures have a block of their own to link to
                name = f"<a href='#{failure_anchor(case['id'])}'>{name}</a>"
            parts.append(f"<p>Seen in case {name}; its exchange:</p>")
            evidence, exchanges = case, list(case.get("exchanges") or [])
    index = failing_exchange_index(evidence) if exchanges else None
    if index is not None:
        parts.append(_exchange_block(exchanges[index]))
        parts.append(_other_exchanges(exchanges, index))
    elif not exchanges:
        parts.append("<p class='muted'>No exchange was recorded for this result.</p>")
    return "".join(parts)


def failures_section(document: Mapping[str, Any]) -> str:
    failures = failures_of(document)
    cases = [r for r in document["results"] if r.get("kind") != "check"]
    head = (f"<h2 id='dx-failures'>Failures (<span id='dx-failure-count'>{len(failures)}</span>)</h2>"
            "<p class='muted'>Failed and errored results, MUST first. Open one for its evidence.</p>")
    if not failures:
        return head + "<p>None: every judged result passed.</p>"
    blocks = []
    for number, result in enumerate(failures):
        line = (f"{coloured(result['outcome'])} <b>{esc(result['level'])}</b> <code>{esc(result['id'])}</code> "
                f"&mdash; {esc(result.get('title', ''))}")
        if number < DETAILED_FAILURES:
            blocks.append(f"<details class='failure level-{esc(result['level'])}' "
                          f"id='{failure_anchor(result['id'])}'><summary>{line}</summary>"
                          f"{failure_html(result, cases)}</details>")
        else:
            blocks.append(f"<p id='{failure_anchor(result['id'])}'>{line}: <code>"
                          f"{esc(result.get('message', ''))}</code></p>")
    if len(failures) > DETAILED_FAILURES:
        blocks.insert(DETAILED_FAILURES, f"<p class='muted'>The first {DETAILED_FAILURES} failures are shown "
                                         "in full; the others in one line each (results.json has all).</p>")
    return head + "".join(blocks)
