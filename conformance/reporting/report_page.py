"""report.html, rendered from a results document alone: verdict, root causes, failures, scores, areas, routes,
coverage, every result, environment.

Why our own page and not pytest-html's: pytest-html draws a row per test from an embedded JSON blob (1,000
rows and their logs: over a megabyte on a clean run, with the verdict below its environment table and its
own counts in pytest's words). `dxconform run` writes this page instead (pytest_plugin/gather.py), within
budgets a test measures (300 KB clean, 1 MB with 200 failures): the essentials read without JavaScript or
network, the long lists folded in <details>. Under plain pytest with `--html`, the same sections go into
pytest-html's page (pytest_plugin/html_hooks.py). `standalone_page()` serves merge, diff and proxy too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Outcome
from .coverage import RouteCoverage, coverage_map, totals
from .failure_section import failure_anchor, failures_of, failures_section
from .first_screen import first_screen
from .html_kit import STYLE, coloured, esc, number_cell, page, plain_count, verdict_tag
from .results_list import environment_section, results_section
from .tallies import (
    NOT_IMPLEMENTED,
    NOT_IMPLEMENTED_VERDICT,
    add_into,
    by_area_topic,
    by_profile_level,
    by_route,
    empty_tally,
    profile_statuses,
    score,
    tally,
)

REPORT_TITLE = "dxconform: DNAnexus API conformance"
MAIN_COLUMNS = (Outcome.PASSED.value, Outcome.FAILED.value, Outcome.ERROR.value, Outcome.UNSUPPORTED.value)


def _columns(document: Mapping[str, Any]) -> list[str]:
    """The four main outcomes, then any other outcome this run produced."""
    present = {r["outcome"] for r in document["results"]}
    return list(MAIN_COLUMNS) + [o.value for o in Outcome if o.value not in MAIN_COLUMNS and o.value in present]


def _count_cells(counts: Mapping[str, int], columns: list[str], **attributes: str) -> str:
    prefix = "".join(f" data-{k}='{esc(v)}'" for k, v in attributes.items())
    return "".join(number_cell(counts[c], f"data-outcome='{c}'{prefix}") for c in columns)


def _duration(document: Mapping[str, Any]) -> str:
    seconds = max(0, int(document["finished"]) - int(document["started"])) / 1000
    return f"{seconds:.1f} s"


def profile_evidence(document: Mapping[str, Any], profile: str) -> str:
    """One line on how the run knows the profile's status (the probe's finding), '' without a probe."""
    entry = (document.get("profiles") or {}).get(profile)
    if not entry:
        return ""
    probes = entry.get("probes") or []
    present = [p for p in probes if p.get("present")]
    missing = [p for p in probes if not p.get("present")]
    embedded = bool((document.get("server") or {}).get("embedded"))
    text = ("required of every server; " if profile == "core" else
            "claimed by the embedded reference server, which implements it; " if entry.get("claimed") and embedded
            else "claimed by the user (--claims); " if entry.get("claimed") else "")
    text += f"probe: {len(present)} of {len(probes)} probed route(s) there"
    if entry.get("not_probed"):
        text += f", {len(entry['not_probed'])} not probed (no answer)"
    example = (missing or present or [None])[0] if entry.get("status") != "detected" else present[0]
    if example:
        answer = example.get("answer") or {}
        said = example.get("evidence") or (f"{example['path']} answered {answer.get('status')} "
                                           f"{answer.get('error_type') or ''}: the method is there")
        text += f"; e.g. {said}"
    return text


def _profile_rows(document: Mapping[str, Any], columns: list[str]) -> list[str]:
    statuses = profile_statuses(document)
    table = by_profile_level(document["results"])
    rows = []
    for profile, status in statuses.items():
        levels = table.get(profile) or {}
        evidence = f"<div class='muted evidence'>{esc(profile_evidence(document, profile))}</div>"
        if status == NOT_IMPLEMENTED:
            total = empty_tally()
            for counts in levels.values():
                add_into(total, counts)
            rows.append(f"<tr data-profile='{esc(profile)}' data-level='all' data-status='{esc(status)}'>"
                        f"<td>{esc(profile)}</td><td>all</td><td class='verdict'>"
                        f"{coloured(NOT_IMPLEMENTED_VERDICT)} <span class='muted'>(no score: neither claimed nor "
                        f"detected)</span>{evidence}</td>" + _count_cells(total, columns, profile=profile,
                                                                           level="all") + "</tr>")
            continue
        shown = False
        for level, counts in levels.items():
            if not sum(counts.values()):
                continue
            verdict = score(counts)
            rows.append(f"<tr data-profile='{esc(profile)}' data-level='{esc(level)}' data-status='{esc(status)}'>"
                        f"<td>{esc(profile)} <span class='muted'>({esc(status)})</span></td>"
                        f"<td>{esc(level)}</td><td class='verdict'>{coloured(verdict.verdict)} "
                        f"<b class='score'>{esc(verdict.percent)}</b> <span class='muted'>"
                        f"({verdict.passing}/{verdict.judged})</span>{'' if shown else evidence}</td>"
                        + _count_cells(counts, columns, profile=profile, level=level) + "</tr>")
            shown = True
    return rows


def scores_section(document: Mapping[str, Any]) -> str:
    """The outcome totals (results.json `summary`), what the results are, and the score per profile and level."""
    results = document["results"]
    summary = document["summary"]
    by_kind = {kind: sum(1 for r in results if r.get("kind", "case") == kind) for kind in ("case", "check",
                                                                                           "profile")}
    facts = [("results", f"{len(results)}: {by_kind['case']} cases, {by_kind['check']} protocol-check results "
                         f"(one per check and route) and {by_kind['profile']} profile claim(s), in "
                         f"{_duration(document)}")]
    totals_row = "".join(f"<th>{esc(k)}</th>" for k in summary)
    totals_cells = "".join(number_cell(v, f"id='dx-total-{esc(k)}'") for k, v in summary.items())
    columns = _columns(document)
    rows = _profile_rows(document, columns)
    return ("<h2 id='dx-scores'>Scores</h2>"
            "<table class='meta'>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in facts) + "</table>"
            f"<table id='dx-totals'><tr>{totals_row}</tr><tr>{totals_cells}</tr></table>"
            "<h3>By profile and level</h3><table id='dx-headline-table' class='headline'><tr><th>profile</th>"
            "<th>level</th><th>verdict and score</th>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"
            + "".join(rows) + "</table>"
            "<p class='muted'>Score: passed (and flaky) results over judged ones. <b>unsupported</b> (the server "
            "does not have the route, or the run could not test the case), <b>not-applicable</b> (a check that "
            "found nothing to apply to) and skipped results are counted, never judged. A profile neither claimed "
            "(<code>--claims</code>) nor detected by the probe is <b>not implemented</b>: no score. A verdict "
            "fails on any failed or errored result.</p>")


def areas_section(document: Mapping[str, Any]) -> str:
    columns = _columns(document)
    head = "<tr><th>area</th><th>topic</th>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"
    rows = []
    for area, topics in by_area_topic(document["results"]).items():
        area_total = tally(r for r in document["results"] if r["area"] == area)
        rows.append(f"<tr class='area' data-area='{esc(area)}'><th colspan='2'>{esc(area)}</th>"
                    + _count_cells(area_total, columns, area=area) + "</tr>")
        for topic, counts in topics.items():
            rows.append(f"<tr data-area='{esc(area)}' data-topic='{esc(topic)}'><td></td><td>{esc(topic)}</td>"
                        + "".join(plain_count(counts[c]) for c in columns) + "</tr>")
    return ("<h2 id='dx-areas'>By area and topic</h2><p class='muted'>Cases and protocol-check results; a "
            "check's topic is <i>checks</i>; an empty cell is 0.</p>"
            f"<table id='dx-areas-table' class='tight'>{head}{''.join(rows)}</table>")


def _route_rows(document: Mapping[str, Any], spec: Any) -> tuple[list[str], int, int]:
    profiles = {route.route: route.profile for route in spec.routes}
    table = by_route(document["results"], profiles, only_listed=True)
    failing = {route for r in failures_of(document) for route in r.get("routes") or []}
    rows, exercised = [], 0
    for key, entry in table.items():
        exercised += 1 if entry.exchanges else 0
        cases, checks = entry.cases, entry.checks
        verdict = score({k: cases[k] + checks[k] for k in cases})
        word = verdict.verdict if entry.exchanges or verdict.judged or verdict.not_counted else "not run"
        checks_failed = checks["failed"] + checks["error"]
        rows.append(f"<tr data-route='{esc(key)}'><td><code>{esc(key)}</code></td>"
                    f"<td>{esc(profiles.get(key, '?'))}</td><td>{verdict_tag(word)}</td>"
                    f"<td data-col='exchanges'>{entry.exchanges}</td>"
                    + "".join(plain_count(cases[o], o) for o in MAIN_COLUMNS)
                    + plain_count(checks["passed"], "checks-passed") + plain_count(checks_failed, "checks-failed")
                    + "</tr>")
    return rows, exercised, len(failing & set(table))


def routes_section(document: Mapping[str, Any], spec: Any) -> str:
    rows, exercised, failing = _route_rows(document, spec)
    return (f"<h2 id='dx-routes'>By route</h2><details><summary><b>{len(rows)}</b> routes: "
            f"<b>{exercised}</b> exercised, <b>{failing}</b> named by a failure (open the table)</summary>"
            "<table id='dx-routes-table' class='tight'><tr><th>route</th><th>profile</th><th>verdict</th>"
            "<th>exchanges</th>"
            + "".join(f"<th>cases {c}</th>" for c in MAIN_COLUMNS)
            + "<th>checks passed</th><th>checks failed</th></tr>" + "".join(rows) + "</table>"
            "<p class='muted'>Cases count under every route they name; exchanges are the requests sent to the "
            "route by any case. URL-form cases that call paths outside the route table (such as "
            "<code>/system/WhoAmI</code>) count under their area only. An empty cell is 0.</p></details>")


def _fields(entry: RouteCoverage, direction: str) -> str:
    """`3/5` then the exercised fields, then the others (and, for input, the sent but undeclared ones)."""
    declared = entry.input_declared if direction == "input" else entry.output_declared
    if declared is None:
        return "<span class='muted'>no schema</span>"
    seen = entry.input_seen if direction == "input" else entry.output_seen
    used = sorted(declared & seen)
    unused = sorted(declared - seen)
    text = f"{len(used)}/{len(declared)} <span class='seen'>{esc(', '.join(used))}</span>"
    if unused:
        text += f" <span class='unseen' title='never exercised'>{esc(', '.join(unused))}</span>"
    if direction == "input" and entry.input_undeclared:
        text += (f" <span class='extra' title='sent, not declared'>{esc(', '.join(entry.input_undeclared))}"
                 "</span>")
    return f"<div class='fields'>{text}</div>"


def coverage_section(document: Mapping[str, Any], spec: Any) -> str:
    table = coverage_map(document["results"], spec)
    total = totals(table)
    rows = [f"<tr data-route='{esc(e.route)}'><td><code>{esc(e.route)}</code></td><td>{esc(e.profile)}</td>"
            + number_cell(e.exchanges) + f"<td>{_fields(e, 'input')}</td><td>{_fields(e, 'output')}</td></tr>"
            for e in table.values()]
    return (f"<h2 id='dx-coverage'>Coverage</h2><p id='dx-coverage-totals'><b>{total.routes_exercised}</b> of "
            f"<b>{total.routes}</b> routes exercised; input fields sent: <b>{total.input_seen}</b> of "
            f"<b>{total.input_declared}</b> declared; output fields seen in successful answers: "
            f"<b>{total.output_seen}</b> of <b>{total.output_declared}</b> declared.</p>"
            "<details><summary>Fields per route (green: exercised, red: never exercised, yellow: sent but not "
            "declared)</summary><table id='dx-coverage-table'><tr><th>route</th><th>profile</th>"
            "<th>exchanges</th><th>input fields</th><th>output fields</th></tr>" + "".join(rows)
            + "</table></details>")


def report_sections(document: Mapping[str, Any], spec: Any | None = None) -> str:
    """Every section, inside one <div class='dxc'> with its own inline stylesheet: first what a reader needs
    first (verdict, profiles, root causes, what was not tested), then failures by cause, scores, areas, routes,
    coverage, every result, and the environment."""
    if spec is None:
        from ..spec import load_spec
        spec = load_spec()
    nav = ("<nav><a href='#dx-failures'>failures</a><a href='#dx-scores'>scores</a><a href='#dx-areas'>areas</a>"
           "<a href='#dx-routes'>routes</a><a href='#dx-coverage'>coverage</a><a href='#dx-results'>every result"
           "</a><a href='#dx-environment'>environment</a></nav>")
    body = "".join([first_screen(document), nav, failures_section(document), scores_section(document),
                    areas_section(document), routes_section(document, spec), coverage_section(document, spec),
                    results_section(document), environment_section(document)])
    return f"<style>{STYLE}</style><div class='dxc' id='dxconform-report'>{body}</div>"


def standalone_page(document: Mapping[str, Any], spec: Any | None = None) -> str:
    """The same sections as a page of their own (for commands that run no pytest)."""
    return page(REPORT_TITLE, report_sections(document, spec))


__all__ = ["REPORT_TITLE", "failure_anchor", "report_sections", "standalone_page"]
