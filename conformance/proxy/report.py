"""report.html of the proxy and of validate: a self-contained page built from the suite's report fragments.

Each violation's evidence is drawn by the failure renderer every report shares (reporting/failure_section.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from ..model import Outcome
from ..reporting.failure_section import failure_html
from ..reporting.html_kit import STYLE as REPORT_STYLE
from ..reporting.summary import columns_for, count_by

STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:80em}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}pre{white-space:pre-wrap;
background:#f6f6f6;padding:.5em;max-height:30em;overflow:auto}.failed,.error{background:#fdd}
.passed{background:#dfd}.dx-failure{margin:.3em 0 1em 1em}"""
NOT_PASSED = (Outcome.FAILED.value, Outcome.ERROR.value)


def _table(title: str, table: Mapping[str, Mapping[str, int]], table_id: str) -> str:
    columns = columns_for(table)
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = "".join(f"<tr><td>{escape(name)}</td>" + "".join(f"<td>{row[c]}</td>" for c in columns) + "</tr>"
                   for name, row in table.items())
    return f"<h3>{escape(title)}</h3><table id='{table_id}'><tr><th></th>{head}</tr>{rows}</table>"


def _rows(results: list[Mapping[str, Any]], with_evidence: bool) -> str:
    rows = []
    for result in results:
        check, _, route = result["id"].removeprefix("checks/").partition("::")
        cells = (result.get("side", ""), result["level"], check, route, result["outcome"], result["message"])
        rows.append(f"<tr class='{escape(result['outcome'])}'>"
                    + "".join(f"<td>{escape(str(cell))}</td>" for cell in cells) + "</tr>")
        if with_evidence:
            rows.append(f"<tr><td colspan='6'><div class='dxc dx-failure'>{failure_html(result)}</div></td></tr>")
    head = "<tr><th>side</th><th>level</th><th>check</th><th>route</th><th>outcome</th><th>message</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def render(document: Mapping[str, Any], title: str) -> str:
    """The whole page for a results document whose results are check results carrying a `side`."""
    results = list(document["results"])
    broken = [r for r in results if r["outcome"] in NOT_PASSED]
    held = [r for r in results if r["outcome"] not in NOT_PASSED]
    traffic = document.get("traffic") or {}
    facts = {"Server": document["server"]["url"], "dxconform version": document["suite"]["version"],
             "schemas sha256": document["suite"]["schemas_sha256"],
             **{f"exchanges: {k}": v for k, v in sorted(traffic.items()) if isinstance(v, int)}}
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>",
             f"<style>{STYLE}{REPORT_STYLE}</style></head><body><h1>{escape(title)}</h1><table id='dx-environment'>",
             "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in facts.items()),
             "</table>"]
    if results:
        parts.append(_table("Checks (per check and route) by side", count_by(results, "side"), "dx-by-side"))
        parts.append(_table("Checks by area", count_by(results, "area"), "dx-by-area"))
    else:
        parts.append("<p>No exchange was checked.</p>")
    parts.append(f"<h2>Violations ({len(broken)})</h2>")
    parts.append(_rows(broken, with_evidence=True) if broken else "<p>None.</p>")
    parts.append(f"<details><summary>Checks that held ({len(held)})</summary>{_rows(held, False)}</details>")
    parts.append("<p>side <b>client</b>: the request broke the rule; side <b>server</b>: the answer did. "
                 "Tokens are shown as ***; the curl lines read the token from $DX_TOKEN.</p></body></html>")
    return "".join(parts)
