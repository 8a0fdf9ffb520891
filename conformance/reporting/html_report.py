"""HTML fragments for report.html: the summary tables by area and level, and the environment rows.

(A failure's evidence is rendered once, for every report, by failure_section.failure_html.)"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from .summary import columns_for, count_by

REPORT_TITLE = "dxconform: DNAnexus API conformance"


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


def environment(server_url: str, embedded: bool, suite_version: str, schemas_sha256: str) -> dict[str, str]:
    """The rows dxconform adds to the report's Environment table (never a token)."""
    return {"Server under test": server_url + (" (embedded reference server)" if embedded else ""),
            "dxconform version": suite_version, "schemas sha256": schemas_sha256}
