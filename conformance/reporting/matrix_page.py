"""The compare page (matrix.html): runs x profiles, areas and routes, cells coloured by verdict; the two-run
diff (regressions, fixes, new failures) when exactly two runs are compared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .html_kit import cell_style, coloured, esc, number_cell, page
from .matrix import Cell, Change, Matrix, RunDiff

COMPARE_TITLE = "dxconform: comparison of runs"


def _cell(cell: Cell, run: int, row: str) -> str:
    verdict = cell.score
    text = (f"{verdict.percent} ({verdict.passing}/{verdict.judged})" if verdict.judged and cell.scored
            else cell.verdict)
    return (f"<td class='cell' style='{cell_style(cell.verdict)}' data-run='{run}' data-row='{esc(row)}' "
            f"data-verdict='{esc(cell.verdict)}' title='{esc(cell.verdict)}'>{esc(text)}</td>")


def _runs_table(matrix: Matrix) -> str:
    rows = []
    for index, run in enumerate(matrix.runs):
        document = run.document
        summary = document["summary"]
        rows.append(f"<tr><td class='n'>{index + 1}</td><td><b>{esc(run.label)}</b></td><td><code>"
                    f"{esc(run.path)}</code></td><td>{esc(document['server']['url'])}"
                    f"{' (embedded)' if document['server']['embedded'] else ''}</td>"
                    f"<td>{esc(document['suite']['version'])}</td><td><code>"
                    f"{esc(document['suite']['schemas_sha256'][:12])}</code></td>"
                    + "".join(number_cell(summary[k]) for k in ("passed", "failed", "error", "unsupported"))
                    + "</tr>")
    note = ""
    if len({run.document["suite"]["schemas_sha256"] for run in matrix.runs}) > 1:
        note = ("<p><b>Note:</b> these runs used different schemas (sha256 differs): a change may come from the "
                "suite, not from the server.</p>")
    return ("<h2 id='dx-runs'>Runs</h2><table id='dx-runs-table'><tr><th>#</th><th>run</th><th>file</th>"
            "<th>server</th><th>suite</th><th>schemas</th><th>passed</th><th>failed</th><th>error</th>"
            "<th>unsupported</th></tr>" + "".join(rows) + "</table>" + note)


def _grid(title: str, anchor: str, prefix: str, table: Mapping[str, list[Cell]], matrix: Matrix,
          differing_only_marker: bool = False) -> str:
    head = "<tr><th></th>" + "".join(f"<th>{esc(run.label)}</th>" for run in matrix.runs)
    head += "<th>differs</th></tr>" if differing_only_marker else "</tr>"
    rows = []
    for name, cells in table.items():
        row = f"{prefix}:{name}"
        line = f"<tr data-row='{esc(row)}'><td><code>{esc(name)}</code></td>"
        line += "".join(_cell(cell, index, row) for index, cell in enumerate(cells))
        if differing_only_marker:
            line += f"<td>{'&#9679;' if len({c.verdict for c in cells}) > 1 else ''}</td>"
        rows.append(line + "</tr>")
    return f"<h2 id='{anchor}'>{esc(title)}</h2><table class='matrix' id='{anchor}-table'>{head}{''.join(rows)}</table>"


def _changes(title: str, anchor: str, changes: Sequence[Change], labels: tuple[str, str], explain: str) -> str:
    head = f"<h3 id='{anchor}'>{esc(title)} (<span class='count'>{len(changes)}</span>)</h3>"
    if not changes:
        return head + "<p class='muted'>none</p>"
    rows = "".join(f"<tr data-id='{esc(c.id)}'><td><code>{esc(c.id)}</code></td><td>{esc(c.level)}</td>"
                   f"<td>{esc(c.area)}</td><td>{coloured(c.before or 'not run', c.before or 'absent')}</td>"
                   f"<td>{coloured(c.after or 'not run', c.after or 'absent')}</td>"
                   f"<td><code>{esc(c.message[:300])}</code></td></tr>" for c in changes)
    return (head + f"<p class='muted'>{esc(explain)}</p><table id='{anchor}-table'><tr><th>result</th><th>level"
            f"</th><th>area</th><th>{esc(labels[0])}</th><th>{esc(labels[1])}</th><th>message ({esc(labels[1])})"
            f"</th></tr>{rows}</table>")


def diff_html(diff: RunDiff, labels: tuple[str, str]) -> str:
    return (f"<h2 id='dx-diff'>From {esc(labels[0])} to {esc(labels[1])}</h2>"
            + _changes("Regressions", "dx-regressions", diff.regressions, labels, "passed before, failed now")
            + _changes("New failures", "dx-new-failures", diff.new_failures, labels,
                       "failed now; before, absent or not judged (unsupported, skipped, known failure)")
            + _changes("Fixes", "dx-fixes", diff.fixes, labels, "failed before, passed now")
            + _changes("Other changes", "dx-other", diff.other, labels, "any other change of outcome")
            + _changes("Gone", "dx-gone", diff.gone, labels, "results of the first run that the second lacks"))


def matrix_page(matrix: Matrix, diff: RunDiff | None) -> str:
    nav = ("<nav>" + ("<a href='#dx-diff'>diff</a>" if diff is not None else "")
           + "<a href='#dx-profiles'>profiles</a><a href='#dx-areas'>areas</a><a href='#dx-routes'>routes</a></nav>")
    legend = ("<p class='muted'>Each cell: the share of judged results that passed (passed/judged), coloured by "
              f"verdict: {coloured('pass')} {coloured('fail')} {coloured('known failures')} "
              f"{coloured('unsupported')} {coloured('not run')}. A route's cell counts the cases naming it and the "
              "protocol checks run on it.</p>")
    parts = [nav, _runs_table(matrix), legend]
    if diff is not None:
        labels = (matrix.runs[0].label, matrix.runs[1].label)
        parts.append(diff_html(diff, labels))
    parts += [_grid("By profile and level", "dx-profiles", "profile", matrix.headline, matrix),
              _grid("By area", "dx-areas", "area", matrix.areas, matrix),
              _grid("By route", "dx-routes", "route", matrix.routes, matrix, differing_only_marker=True)]
    return page(COMPARE_TITLE, "".join(parts))
