"""The compare page (matrix.html): runs x profiles, areas, routes and results, cells coloured by verdict; the
route and result tables show what differs between the runs (the rest folded); for exactly two runs, the diff
(regressions, new failures, fixes) grouped by root cause. Readable without JavaScript."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .failure_section import failure_anchor
from .html_kit import coloured, esc, number_cell, page
from .matrix import (
    FIX,
    NEW_FAILURE,
    REGRESSION,
    CauseGroup,
    Cell,
    Change,
    Matrix,
    RunDiff,
    outcomes_differ,
    verdicts_differ,
)
from .tallies import CLAIMED, DETECTED, FAILING, NOT_IMPLEMENTED, NOT_IMPLEMENTED_VERDICT

COMPARE_TITLE = "dxconform: comparison of runs"
ABSENT = "absent"
MESSAGE_CHARS = 200
# Other changes and gone results: listed open up to this many, folded beyond.
OPEN_CHANGES = 20
DIFFERS_MARK = "&#9679;"


class Links:
    """Each run's report.html as a link from the page's directory (None: the run has no report beside it)."""

    def __init__(self, matrix: Matrix, page_dir: str | Path | None):
        self.reports = [run.report_href(page_dir) if page_dir is not None else None for run in matrix.runs]

    def failure(self, run: int, result_id: str) -> str | None:
        report = self.reports[run]
        return f"{report}#{failure_anchor(result_id)}" if report else None


def _cell(cell: Cell, run: int, row: str) -> str:
    verdict = cell.score
    text = (f"{verdict.percent} ({verdict.passing}/{verdict.judged})" if verdict.judged and cell.scored
            else cell.verdict)
    return (f"<td class='cell v-{_slug(cell.verdict)}' data-run='{run}' data-row='{esc(row)}' "
            f"data-verdict='{esc(cell.verdict)}'>{esc(text)}</td>")


def _slug(word: str) -> str:
    """The colour class of a verdict or outcome word (html_kit's VERDICT_CLASSES: `v-known-failures`)."""
    return esc(word.replace(" ", "-").replace("/", "-"))


def _profiles_line(statuses: Mapping[str, str]) -> str:
    parts = []
    for status, word in ((CLAIMED, "claimed"), (DETECTED, "detected"), (NOT_IMPLEMENTED, NOT_IMPLEMENTED_VERDICT)):
        names = [name for name, value in statuses.items() if value == status]
        if names:
            parts.append(f"<span data-status='{status}'>{esc(word)}: {esc(', '.join(names))}</span>")
    return "<br>".join(parts) or "<span class='muted'>none recorded</span>"


def _runs_table(matrix: Matrix, links: Links) -> str:
    rows = []
    for index, run in enumerate(matrix.runs):
        document = run.document
        summary = document["summary"]
        href = links.reports[index]
        report = (f"<a href='{esc(href)}'>report.html</a>" if href
                  else "<span class='muted'>none: no report.html beside this results.json</span>")
        rows.append(f"<tr data-run='{index}'><td class='n'>{index + 1}</td><td><b>{esc(run.label)}</b></td><td><code>"
                    f"{esc(run.path)}</code></td><td data-col='report'>{report}</td>"
                    f"<td>{esc(document['server']['url'])}{' (embedded)' if document['server']['embedded'] else ''}"
                    f"</td><td>{esc(document['suite']['version'])}</td><td><code>"
                    f"{esc(document['suite']['schemas_sha256'][:12])}</code></td>"
                    f"<td data-col='profiles'>{_profiles_line(run.profiles)}</td>"
                    + "".join(number_cell(summary[k]) for k in ("passed", "failed", "error", "unsupported"))
                    + "</tr>")
    note = ""
    if len({run.document["suite"]["schemas_sha256"] for run in matrix.runs}) > 1:
        note = ("<p><b>Note:</b> these runs used different schemas (sha256 differs): a change may come from the "
                "suite, not from the server.</p>")
    return ("<h2 id='dx-runs'>Runs</h2><table id='dx-runs-table'><tr><th>#</th><th>run</th><th>file</th>"
            "<th>report</th><th>server</th><th>suite</th><th>schemas</th><th>profiles</th><th>passed</th>"
            "<th>failed</th><th>error</th><th>unsupported</th></tr>" + "".join(rows) + "</table>" + note)


def _grid(title: str, anchor: str, prefix: str, table: Mapping[str, list[Cell]], matrix: Matrix) -> str:
    """A small table shown whole (profiles, areas), with a mark on the rows that differ."""
    head = "<tr><th></th>" + "".join(f"<th>{esc(run.label)}</th>" for run in matrix.runs) + "<th>differs</th></tr>"
    rows = []
    for name, cells in table.items():
        row = f"{prefix}:{name}"
        line = f"<tr data-row='{esc(row)}'><td><code>{esc(name)}</code></td>"
        line += "".join(_cell(cell, index, row) for index, cell in enumerate(cells))
        rows.append(line + f"<td>{DIFFERS_MARK if verdicts_differ(cells) else ''}</td></tr>")
    return f"<h2 id='{anchor}'>{esc(title)}</h2><table class='matrix' id='{anchor}-table'>{head}{''.join(rows)}</table>"


def _split_table(anchor: str, noun: str, head: str, rows: Sequence[tuple[bool, str, str]], runs: int,
                 all_rows: bool, same_words: str) -> str:
    """The rows that differ in a table of their own, and the others folded in a second one (`<details>`);
    with `all_rows`, every row in one table, open, the differing ones marked. `head`: the header cells;
    `rows`: (differs, the row's attributes, its cells)."""
    differing = [row for row in rows if row[0]]
    same = [row for row in rows if not row[0]]

    def table(table_id: str, chosen: Sequence[tuple[bool, str, str]], marked: bool = False) -> str:
        top = f"<tr>{head}{'<th>differs</th>' if marked else ''}</tr>"
        body = "".join(f"<tr {attributes}>{cells}" + (f"<td>{DIFFERS_MARK if differs else ''}</td>" if marked else "")
                       + "</tr>" for differs, attributes, cells in chosen)
        return f"<table class='matrix' id='{table_id}'>{top}{body}</table>"

    if all_rows:
        return (f"<p id='{anchor}-shown' class='muted'>All {len(rows)} {noun}s (<code>--all-rows</code>); "
                f"{len(differing)} differ between the runs, marked {DIFFERS_MARK}.</p>"
                + table(f"{anchor}-table", rows, marked=True))
    if runs < 2:
        lead = f"One run: nothing to compare. Its {len(rows)} {noun}s are folded below."
    elif not differing:
        lead = f"No {noun} differs: all {len(rows)} have {same_words} in every run (folded below)."
    else:
        lead = (f"Only the <b>{len(differing)}</b> {noun}(s) that differ between the runs are shown; "
                f"<b>{len(same)}</b> with {same_words} in every run are hidden, folded below "
                "(<code>--all-rows</code> shows every row open).")
    shown = table(f"{anchor}-table", differing) if differing else ""
    folded = (f"<details id='{anchor}-same'><summary>{len(same)} {noun}(s) with {same_words} in every run"
              f"</summary>{table(f'{anchor}-same-table', same)}</details>" if same else "")
    return f"<p id='{anchor}-shown' class='muted'>{lead}</p>{shown}{folded}"


def routes_html(matrix: Matrix, all_rows: bool) -> str:
    head = "<th>route</th>" + "".join(f"<th>{esc(run.label)}</th>" for run in matrix.runs)
    rows = []
    for name, cells in matrix.routes.items():
        row = f"route:{name}"
        rows.append((verdicts_differ(cells), f"data-row='{esc(row)}'", f"<td><code>{esc(name)}</code></td>"
                     + "".join(_cell(cell, index, row) for index, cell in enumerate(cells))))
    return ("<h2 id='dx-routes'>By route</h2><p class='muted'>A route's cell counts the cases naming it and the "
            "protocol checks run on it.</p>"
            + _split_table("dx-routes", "route", head, rows, len(matrix.runs), all_rows, "the same verdict"))


def _tag(outcome: str | None) -> str:
    """An outcome word on its colour, by class (`absent` for a result not in that run)."""
    return f"<span class='v v-{_slug(outcome or 'not run')}'>{esc(outcome or ABSENT)}</span>"


def _outcome_cell(outcome: str | None, run: int, result_id: str, links: Links) -> str:
    word = outcome or ABSENT
    href = links.failure(run, result_id) if outcome in FAILING else None
    text = f"<a href='{esc(href)}'>{esc(word)}</a>" if href else esc(word)
    return f"<td class='v-{_slug('not run' if outcome is None else word)}'>{text}</td>"


def results_html(matrix: Matrix, links: Links, all_rows: bool) -> str:
    head = "<th>result</th><th>kind</th>" + "".join(f"<th>{esc(run.label)}</th>" for run in matrix.runs)
    rows = []
    for result_id, outcomes in matrix.results.items():
        rows.append((outcomes_differ(outcomes), f"data-id='{esc(result_id)}'",
                     f"<td>{esc(result_id)}</td><td>{esc(matrix.kinds[result_id])}</td>"
                     + "".join(_outcome_cell(o, index, result_id, links) for index, o in enumerate(outcomes))))
    return ("<h2 id='dx-results'>By result</h2><p class='muted'>One row per result id (profile claims, cases, "
            "check results): its outcome in each run (absent: not in that run); a failed outcome links to its "
            "evidence in that run's report.html.</p>"
            + _split_table("dx-results", "result", head, rows, len(matrix.runs), all_rows, "the same outcome"))


def _change_rows(changes: Sequence[tuple[str, Change]], labels: tuple[str, str],
                 link: Callable[[str], str | None]) -> str:
    rows = []
    for kind, c in changes:
        href = link(c.id)
        name = f"<a href='{esc(href)}'><code>{esc(c.id)}</code></a>" if href else f"<code>{esc(c.id)}</code>"
        rows.append(f"<tr data-id='{esc(c.id)}' data-change='{esc(kind)}'><td>{name}</td><td>{esc(kind)}</td>"
                    f"<td>{esc(c.level)}</td><td>{esc(c.area)}</td>"
                    f"<td>{_tag(c.before)}</td><td>{_tag(c.after)}</td>"
                    f"<td><code>{esc(c.message[:MESSAGE_CHARS])}</code></td></tr>")
    return (f"<table class='compact'><tr><th>result</th><th>change</th><th>level</th><th>area</th>"
            f"<th>{esc(labels[0])}</th><th>{esc(labels[1])}</th><th>message ({esc(labels[1])})</th></tr>"
            + "".join(rows) + "</table>")


def _kinds_note(group: CauseGroup) -> str:
    counts = [(len(group.of(kind)), word) for kind, word in ((REGRESSION, "regression"),
                                                              (NEW_FAILURE, "new failure"), (FIX, "fix"))]
    words = ", ".join(f"{n} {word}{'es' if word == 'fix' and n > 1 else 's' if n > 1 else ''}"
                      for n, word in counts if n)
    whole = (f"; {group.cause_count} result(s) of {group.run} in all" if group.cause_count > group.count else "")
    return f"<span class='muted'>({words}{whole})</span>"


def _cause_groups(anchor: str, title: str, groups: Sequence[CauseGroup], labels: tuple[str, str],
                  explain: str, link: Callable[[str], str | None]) -> str:
    if not groups:
        return f"<p id='{anchor}'><b>{esc(title)}</b>: none.</p>"
    total = sum(group.count for group in groups)
    head = f"<h3 id='{anchor}'>{esc(title)} (<span class='count'>{total}</span>)</h3>"
    items = []
    for group in groups:
        count, _, rest = group.summary.partition(" × ")
        items.append(f"<li data-rule='{esc(group.rule)}' data-how='{esc(group.how)}' data-count='{group.count}'>"
                     f"<details><summary><b class='count'>{count} &times;</b> {esc(rest)} {_kinds_note(group)}"
                     f"</summary>{_change_rows(group.changes, labels, link)}</details></li>")
    return (head + f"<p class='muted'>{esc(explain)} One line per root cause, largest first; each opens to its "
            f"results.</p><ol id='{anchor}-causes' class='causes'>{''.join(items)}</ol>")


def _plain_changes(anchor: str, title: str, changes: Sequence[Change], labels: tuple[str, str], explain: str,
                   kind: str) -> str:
    if not changes:
        return f"<p id='{anchor}'><b>{esc(title)}</b>: none.</p>"
    head = f"<h3 id='{anchor}'>{esc(title)} (<span class='count'>{len(changes)}</span>)</h3>"
    table = _change_rows([(kind, c) for c in changes], labels, lambda _: None)
    if len(changes) > OPEN_CHANGES:
        table = f"<details><summary>{len(changes)} results</summary>{table}</details>"
    return head + f"<p class='muted'>{esc(explain)}</p>" + table


def diff_html(diff: RunDiff, labels: tuple[str, str], links: Links) -> str:
    counts = (f"{len(diff.regressions)} regression(s), {len(diff.new_failures)} new failure(s), "
              f"{len(diff.fixes)} fix(es), {len(diff.other)} other change(s), {len(diff.gone)} gone")
    return (f"<h2 id='dx-diff'>From {esc(labels[0])} to {esc(labels[1])}</h2><p id='dx-diff-counts'>{esc(counts)}</p>"
            + _cause_groups("dx-worse", f"Regressions and new failures, by root cause in {labels[1]}",
                            diff.worse_by_cause, labels,
                            "Regression: passed before, failed now. New failure: failed now; before, absent or not "
                            "judged (unsupported, skipped, known failure).", lambda rid: links.failure(1, rid))
            + _cause_groups("dx-fixes", f"Fixes, by root cause in {labels[0]}", diff.fixes_by_cause, labels,
                            "Failed before, passed now.", lambda rid: links.failure(0, rid))
            + _plain_changes("dx-other", "Other changes", diff.other, labels, "any other change of outcome", "other")
            + _plain_changes("dx-gone", "Gone", diff.gone, labels, "results of the first run that the second lacks",
                             "gone"))


def matrix_page(matrix: Matrix, diff: RunDiff | None, page_dir: str | Path | None = None,
                all_rows: bool = False) -> str:
    """The whole page; `page_dir` (where it is written) makes the links to each run's report.html relative;
    `all_rows` shows every route and result open instead of only those that differ."""
    links = Links(matrix, page_dir)
    nav = ("<nav>" + ("<a href='#dx-diff'>diff</a>" if diff is not None else "")
           + "<a href='#dx-profiles'>profiles</a><a href='#dx-areas'>areas</a><a href='#dx-routes'>routes</a>"
             "<a href='#dx-results'>results</a></nav>")
    legend = ("<p class='muted'>Each cell: the share of judged results that passed (passed/judged), coloured by "
              f"verdict: {coloured('pass')} {coloured('fail')} {coloured('known failures')} "
              f"{coloured('unsupported')} {coloured('not implemented')} {coloured('not run')}. "
              f"{DIFFERS_MARK} marks a row whose verdict differs between the runs.</p>")
    parts = [nav, _runs_table(matrix, links), legend]
    if diff is not None:
        parts.append(diff_html(diff, (matrix.runs[0].label, matrix.runs[1].label), links))
    parts += [_grid("By profile and level", "dx-profiles", "profile", matrix.headline, matrix),
              _grid("By area", "dx-areas", "area", matrix.areas, matrix),
              routes_html(matrix, all_rows), results_html(matrix, links, all_rows)]
    return page(COMPARE_TITLE, "".join(parts))
