"""HTML fragments for report.html: the summary tables by area and level, and the evidence of one failure."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from .curl import curl_command
from .summary import columns_for, count_by

REPORT_TITLE = "dxconform: DNAnexus API conformance"
# How much of a body the HTML shows per exchange; results.json keeps more.
SHOWN_BODY_CHARS = 4000
# A long case shows its last exchanges: the failing one is almost always the last.
SHOWN_EXCHANGES = 4


def _table(title: str, table: Mapping[str, Mapping[str, int]], table_id: str) -> str:
    columns = columns_for(table)
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = "".join(f"<tr><td>{escape(name)}</td>" + "".join(f"<td>{row[c]}</td>" for c in columns) + "</tr>"
                   for name, row in table.items())
    return (f"<h3>{escape(title)}</h3><table id='{table_id}' class='dxconform-summary'>"
            f"<tr><th></th>{head}</tr>{rows}</table>")


def summary_html(case_results: list[Mapping[str, Any]], check_results: list[Mapping[str, Any]]) -> str:
    """The block shown above the results table: cases by area, cases by level, protocol checks by area."""
    parts = ["<h2>dxconform summary</h2>"]
    if case_results:
        parts.append(_table("Cases by area", count_by(case_results, "area"), "dx-cases-by-area"))
        parts.append(_table("Cases by level", count_by(case_results, "level"), "dx-cases-by-level"))
    else:
        parts.append("<p>No cases ran.</p>")
    if check_results:
        parts.append(_table("Protocol checks (per check and route) by area", count_by(check_results, "area"),
                            "dx-checks-by-area"))
    parts.append("<p>Outcome <b>unsupported</b>: an optional profile the server does not implement; pytest "
                 "shows these as skipped.</p>")
    return "".join(parts)


def _pre(text: str) -> str:
    return f"<pre>{escape(text)}</pre>"


def _shown(text: Any) -> str:
    text = text if isinstance(text, str) else json.dumps(text)
    return text if len(text) <= SHOWN_BODY_CHARS else text[:SHOWN_BODY_CHARS] + f"... [{len(text)} chars]"


def _exchange_html(exchange: Mapping[str, Any]) -> str:
    request, response = exchange.get("request") or {}, exchange.get("response")
    sent = "\n".join([f"{request.get('method', '')} {request.get('url', '')}"]
                     + [f"{k}: {v}" for k, v in (request.get("headers") or {}).items()]
                     + ["", _shown(request.get("body", ""))])
    if response:
        got = "\n".join([f"HTTP {response.get('status')} ({exchange.get('elapsed_ms', 0)} ms)"
                         + (" [cut off]" if response.get("truncated") else "")]
                        + [f"{k}: {v}" for k, v in (response.get("headers") or {}).items()]
                        + ["", _shown(response.get("body", ""))])
    else:
        got = "no answer"
    if exchange.get("error"):
        got += f"\n[{exchange['error'].get('kind')}] {exchange['error'].get('message')}"
    return (f"<div class='dx-exchange'><b>request</b>{_pre(sent)}<b>response</b>{_pre(got)}"
            f"<b>reproduce</b> (the token comes from $DX_TOKEN){_pre(curl_command(request))}</div>")


def _findings_html(findings: Iterable[Mapping[str, Any]]) -> str:
    rows = []
    for finding in findings:
        where = finding.get("path", "")
        expected = json.dumps(finding["expected"]) if "expected" in finding else ""
        actual = json.dumps(finding["actual"]) if "actual" in finding else ""
        rows.append("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in (
            finding.get("level", ""), finding.get("check", ""), finding.get("message", ""), where,
            expected, actual)) + "</tr>")
    if not rows:
        return ""
    return ("<table class='dx-findings'><tr><th>level</th><th>check</th><th>message</th><th>at</th>"
            "<th>expected</th><th>actual</th></tr>" + "".join(rows) + "</table>")


def failure_html(result: Mapping[str, Any]) -> str:
    """What a failed (or errored) case shows under its row: message, findings, its last exchanges."""
    exchanges = list(result.get("exchanges") or [])
    shown = exchanges[-SHOWN_EXCHANGES:]
    skipped = len(exchanges) - len(shown)
    parts = [f"<div class='dx-failure'><p><b>{escape(result.get('outcome', ''))}</b>: "
             f"{escape(result.get('message', ''))}</p>",
             f"<p>source: {escape(result.get('source', ''))}</p>",
             _findings_html(result.get("findings") or [])]
    if skipped:
        parts.append(f"<p>({skipped} earlier exchange(s) are in results.json)</p>")
    parts.extend(_exchange_html(exchange) for exchange in shown)
    parts.append("</div>")
    return "".join(parts)


def environment(server_url: str, embedded: bool, suite_version: str, schemas_sha256: str) -> dict[str, str]:
    """The rows dxconform adds to the report's Environment table (never a token)."""
    return {"Server under test": server_url + (" (embedded reference server)" if embedded else ""),
            "dxconform version": suite_version, "schemas sha256": schemas_sha256}
