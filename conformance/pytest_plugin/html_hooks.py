"""pytest-html hooks: our title, environment rows, our report sections on top, and Area/Level columns.

report.html is pytest-html's page (its per-test table with filters) with dxconform's own sections put into its
summary: headline verdict, areas and topics, failures with evidence, routes, coverage (reporting/report_page.py
says why). The sections are rendered from the very document written to results.json, so the numbers agree.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pytest

from ..redaction import redactor
from ..reporting.html_report import environment
from ..reporting.report_page import REPORT_TITLE, failure_anchor, report_sections
from .gather import OUTCOME_ATTRIBUTE, Gatherer

# pytest-html counts its table's rows in pytest's words ("146 Skipped" for unsupported cases, "860 tests" for
# the passed ones): numbers that disagree with ours. Its counters and outcome filters are hidden; the table
# stays, with our own outcome column, under a heading that says what it lists.
PYTEST_HTML_COUNTERS_HIDDEN = (
    "<style>.summary .run-count, .summary p.filter, .summary .controls .filters { display: none; }</style>"
    "<h2 id='dx-case-table'>Every case</h2><p class='dx-case-table-note'>The table below (pytest-html's) "
    "lists one row per case; its <i>dxconform outcome</i> column holds the outcome counted above. Its "
    "<i>Result</i> column is pytest's word for it (an unsupported case is <i>Skipped</i> there).</p>")


class HtmlHooks:
    """Registered only when pytest-html is active; reads the controller's Gatherer."""

    def __init__(self, gatherer: Gatherer):
        self.gatherer = gatherer

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = REPORT_TITLE

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list, summary: list, postfix: list, session: Any) -> None:
        # pytest-html calls this last (trylast sessionfinish), after results.json was built and written.
        prefix.append(redactor(self.gatherer.secrets).scrub(report_sections(self.gatherer.document())))
        prefix.append(PYTEST_HTML_COUNTERS_HIDDEN)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list) -> None:
        cells.insert(2, "<th class='sortable' data-column-type='area'>Area</th>")
        cells.insert(3, "<th class='sortable' data-column-type='level'>Level</th>")
        cells.insert(4, "<th>dxconform outcome</th>")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list) -> None:
        properties = dict(getattr(report, "user_properties", []) or [])
        outcome = getattr(report, OUTCOME_ATTRIBUTE, None) or ""
        cells.insert(2, f"<td class='col-area'>{escape(str(properties.get('area', '')))}</td>")
        cells.insert(3, f"<td class='col-level'>{escape(str(properties.get('level', '')))}</td>")
        cells.insert(4, f"<td class='col-dxoutcome'>{escape(outcome)}</td>")


def add_environment(config: pytest.Config, gatherer: Gatherer) -> None:
    """Our rows in the Environment table (pytest-metadata), and no row that holds a token."""
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:  # pytest-html without pytest-metadata: no table to fill
        return
    from .. import __version__
    from ..resources import schemas_dir
    from ..spec.schemas import tree_sha256

    if metadata_key not in config.stash:   # pytest-metadata not loaded in this run
        return
    metadata = config.stash[metadata_key]
    metadata.update(environment(gatherer.server_url, gatherer.embedded, __version__, tree_sha256(schemas_dir())))
    scrubber = redactor(gatherer.secrets)
    for key in [k for k, v in metadata.items() if scrubber.contains(str(v))]:
        del metadata[key]


def failure_extras(result_json: dict[str, Any]) -> list[Any]:
    """What a failed case adds under its row of pytest-html's table: a link to its evidence in our failures
    section (the evidence itself is there once, not twice in the page)."""
    try:
        from pytest_html import extras
    except ImportError:
        return []
    anchor = failure_anchor(str(result_json.get("id", "")))
    return [extras.html(f"<p><a href='#{anchor}'>evidence, diff and reproduction of this failure</a> "
                        f"(dxconform failures section, at the top)</p><p>{escape(result_json.get('message', ''))}</p>")]
