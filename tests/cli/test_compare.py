"""`dxconform compare`: the matrix of several runs (tiny suite: each broken area in its column), what differs
between real runs of the suite (a clean embedded server, timestamps in seconds, tags that do not stick), the
per-result rows, the links to each run's report.html, and the two-run diff grouped by root cause."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from conformance.reporting.failure_section import failure_anchor
from conformance.reporting.matrix import load_runs
from conformance.reporting.root_causes import root_causes

from ..reporting.support import EMBEDDED_TOKEN_PREFIX, Cells, dxconform, run_tiny

# fault -> the tiny suite's case it breaks, and that case's area
INJECTED = {"accepts-invalid-json": ("cases/tiny.yaml::malformed-json", "json-input"),
            "ignores-token": ("cases/tiny.yaml::no-token", "auth")}
# The real runs: a selection of the shipped suite that both faults break, of core and the databases profile, which
# the embedded server does not implement (~120 cases, ~4 s of CPU a run in one process; the cases of the profiles
# it implements start jobs, and their routes are not what differs).
SELECTION = ["-k", "timestamps or tags or no-access", "--profile", "databases"]
REAL_FAULTS = {"clean": None, "timestamps": "timestamps-in-seconds", "tags": "tags-do-not-stick"}
# tags-do-not-stick: addTags keeps no tag, so reading the tags back fails; timestamps in seconds leave it be.
TAGS_REGRESSION = "cases/data-types/values.yaml::tags-keep-insertion-order"
SECONDS = "values look like seconds, not milliseconds"


def table(html: str, table_id: str) -> Cells:
    """The cells of one table of the page (every table is flat: no table inside another)."""
    start = html.index(f"id='{table_id}'")
    return Cells(html[html.rindex("<table", 0, start):html.index("</table>", start) + len("</table>")])


def row_keys(cells: Cells, key: str) -> list[str]:
    """The `key` attribute of each row of a table, in order, once a row."""
    return list(dict.fromkeys(row[key] for row, _, _ in cells.cells if key in row))


def outcomes(path: Path) -> dict[str, str]:
    return {r["id"]: r["outcome"] for r in json.loads(path.read_text())["results"]}


# --- the tiny suite: three runs, each fault in its own column --------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("compare")
    return {"clean": run_tiny(base, "clean") / "results.json",
            "badjson": run_tiny(base, "badjson", "accepts-invalid-json") / "results.json",
            "notoken": run_tiny(base, "notoken", "ignores-token") / "results.json"}


def test_three_runs_show_each_broken_area_in_its_own_column(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "matrix.html"
    proc = dxconform("compare", str(runs["clean"]), str(runs["badjson"]), str(runs["notoken"]), "--out", str(out),
                     "--json", str(tmp_path / "matrix.json"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = out.read_text()
    page = Cells(html)
    # columns in file order, named after the run directories
    assert "<th>clean</th><th>badjson</th><th>notoken</th>" in html

    def verdicts(row: str) -> list[str]:
        return [cell["data-verdict"] for _, cell, _ in page.cells if cell.get("data-row") == row]

    assert verdicts("area:json-input") == ["pass", "fail", "pass"]
    assert verdicts("area:auth") == ["pass", "pass", "fail"]
    assert verdicts("area:semantics") == ["pass", "pass", "pass"]
    assert verdicts("profile:core MUST") == ["pass", "fail", "fail"]
    assert verdicts("route:/system/whoami") == ["pass", "fail", "fail"]
    assert verdicts("route:/file-xxxx/close") == ["not run"] * 3
    # every route once: those that differ shown, the others folded
    assert len({row for r, _, _ in page.cells if (row := r.get("data-row", "")).startswith("route:")}) == 208
    assert "route:/system/whoami" in row_keys(table(html, "dx-routes-table"), "data-row")
    assert "route:/file-xxxx/close" in row_keys(table(html, "dx-routes-same-table"), "data-row")
    # three runs: no diff section
    assert "dx-worse" not in page.by_id and "dx-diff" not in page.by_id
    data = json.loads((tmp_path / "matrix.json").read_text())
    assert data["format"] == "dxconform-compare/1" and data["diff"] is None
    assert [run["label"] for run in data["runs"]] == ["clean", "badjson", "notoken"]
    assert [cell["verdict"] for cell in data["areas"]["json-input"]] == ["pass", "fail", "pass"]
    assert "/system/whoami" in data["differing"]["routes"]


@pytest.mark.parametrize("fault", sorted(INJECTED))
def test_two_runs_diff_lists_exactly_the_injected_regressions(runs: dict[str, Path], tmp_path: Path,
                                                              fault: str) -> None:
    broken = runs["badjson" if fault == "accepts-invalid-json" else "notoken"]
    case_id, _ = INJECTED[fault]
    injected = {r["id"] for r in json.loads(broken.read_text())["results"] if r["outcome"] == "failed"}
    assert case_id in injected
    out = tmp_path / "diff.html"
    proc = dxconform("compare", str(runs["clean"]), str(broken), "--out", str(out), "--json",
                     str(tmp_path / "diff.json"), "--fail-on-regression", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    diff = json.loads((tmp_path / "diff.json").read_text())["diff"]
    assert {c["id"] for c in diff["regressions"]} == injected
    assert all(c["before"] == "passed" and c["after"] == "failed" for c in diff["regressions"])
    assert diff["fixes"] == [] and diff["new_failures"] == [] and diff["gone"] == []
    assert {rid for group in diff["worse_by_cause"] for rid in group["regressions"]} == injected
    html = out.read_text()
    page = Cells(html)
    assert page.by_id["dx-worse"] == f"Regressions and new failures, by root cause in {broken.parent.name} " \
                                     f"({len(injected)})"
    changed = {row["data-id"] for row, _, _ in page.cells if "data-change" in row}
    assert changed == injected                                                       # no other change
    assert set(row_keys(table(html, "dx-results-table"), "data-id")) == injected   # nor other differing result
    assert "regressions and new failures, by root cause" in proc.stdout
    # the other way round, the same results are fixes
    back = dxconform("compare", str(broken), str(runs["clean"]), "--out", str(tmp_path / "back.html"), "--json",
                     str(tmp_path / "back.json"), "--fail-on-regression", cwd=tmp_path)
    assert back.returncode == 0, back.stdout + back.stderr
    reverse = json.loads((tmp_path / "back.json").read_text())["diff"]
    assert {c["id"] for c in reverse["fixes"]} == injected and reverse["regressions"] == []
    assert {rid for group in reverse["fixes_by_cause"] for rid in group["fixes"]} == injected


def test_compare_outputs_hold_no_token(runs: dict[str, Path], tmp_path: Path) -> None:
    proc = dxconform("compare", *map(str, runs.values()), "--out", str(tmp_path / "m.html"), "--json",
                     str(tmp_path / "m.json"), cwd=tmp_path)
    assert proc.returncode == 0
    for path in (tmp_path / "m.html", tmp_path / "m.json"):
        text = path.read_text()
        assert EMBEDDED_TOKEN_PREFIX not in text, path


def test_unreadable_input_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "not-results.json").write_text('{"format": "something else"}')
    for args in (["compare", str(tmp_path / "missing.json")], ["compare", str(tmp_path / "not-results.json")],
                 ["compare", str(tmp_path / "not-results.json"), "--label", "a", "--label", "b"]):
        proc = dxconform(*args, "--out", str(tmp_path / "m.html"), cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stderr.startswith("dxconform: error:") and "Traceback" not in proc.stderr
        assert not (tmp_path / "m.html").exists()


# --- real runs of the suite: what differs, per result, links, root causes ---------------------------------------

@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict[str, Path]:
    """`dxconform run SELECTION` on the embedded server: clean, and with each fault; their results.json."""
    base = tmp_path_factory.mktemp("real")
    found = {}
    for name, fault in REAL_FAULTS.items():
        args = ["run", "-q", *SELECTION, "--out", str(base / name)]
        proc = dxconform(*args, *(["--embedded-fault", fault] if fault else []), cwd=base)
        assert proc.returncode == (1 if fault else 0), proc.stdout[-3000:] + proc.stderr
        found[name] = base / name / "results.json"
    return found


@pytest.fixture(scope="module")
def three(real: dict[str, Path], tmp_path_factory) -> tuple[Path, dict]:
    """The page (written one directory away from the runs) and JSON of the three real runs."""
    out = tmp_path_factory.mktemp("pages") / "sub" / "matrix.html"
    json_out = out.parent / "matrix.json"
    proc = dxconform("compare", *map(str, real.values()), "--out", str(out), "--json", str(json_out),
                     cwd=out.parent.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, json.loads(json_out.read_text())


def test_differences_only_tables_hold_exactly_the_differing_rows(real: dict[str, Path], three, tmp_path: Path):
    out, data = three
    html = out.read_text()
    # routes: a row differs when its verdicts do
    verdicts = {route: [cell["verdict"] for cell in cells] for route, cells in data["routes"].items()}
    differing = [route for route, words in verdicts.items() if len(set(words)) > 1]
    assert differing and len(differing) < len(verdicts)
    assert row_keys(table(html, "dx-routes-table"), "data-row") == [f"route:{r}" for r in differing]
    assert row_keys(table(html, "dx-routes-same-table"), "data-row") == [
        f"route:{r}" for r in verdicts if r not in differing]
    assert data["differing"]["routes"] == differing
    page = Cells(html)
    hidden = len(verdicts) - len(differing)
    assert f"Only the {len(differing)} route(s) that differ between the runs are shown; {hidden} with the same " \
           "verdict" in page.by_id["dx-routes-shown"]
    assert f"<details id='dx-routes-same'><summary>{hidden} route(s)" in html
    # results: a row differs when its outcomes do (absent from a run counts), computed from the files themselves
    each = [outcomes(path) for path in real.values()]
    ids = set().union(*each)
    expected = {rid for rid in ids if len({o.get(rid) for o in each}) > 1}
    shown = row_keys(table(html, "dx-results-table"), "data-id")
    assert set(shown) == expected and len(shown) == len(expected)
    assert set(row_keys(table(html, "dx-results-same-table"), "data-id")) == ids - expected
    assert set(data["differing"]["results"]) == expected
    # --all-rows: one table, every row open, the differing ones marked
    everything = tmp_path / "all.html"
    proc = dxconform("compare", *map(str, real.values()), "--out", str(everything), "--all-rows", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    full = everything.read_text()
    assert "dx-routes-same" not in full and "dx-results-same" not in full and "<details id=" not in full
    routes = table(full, "dx-routes-table")
    assert row_keys(routes, "data-row") == [f"route:{r}" for r in verdicts]
    assert [row["data-row"] for row, _, text in routes.cells if text == "\u25cf"] == [f"route:{r}" for r in differing]
    results = table(full, "dx-results-table")
    assert set(row_keys(results, "data-id")) == ids
    assert {row["data-id"] for row, _, text in results.cells if text == "\u25cf"} == expected


def test_per_result_rows_show_a_known_regression(real: dict[str, Path], three) -> None:
    out, _ = three
    rows = table(out.read_text(), "dx-results-table")
    assert TAGS_REGRESSION in row_keys(rows, "data-id")
    cells = [(cell, text) for row, cell, text in rows.cells if row.get("data-id") == TAGS_REGRESSION]
    assert [text for _, text in cells] == [TAGS_REGRESSION, "case", "passed", "passed", "failed"]
    assert [cell.get("class") for cell, _ in cells[2:]] == ["v-passed", "v-passed", "v-failed"]
    # the failed outcome links to its evidence in that run's report
    link = f"../../{real['tags'].parent.parent.name}/tags/report.html#{failure_anchor(TAGS_REGRESSION)}"
    assert f"<a href='{link}'>failed</a>" in out.read_text()
    # a case of the timestamps' fault, in the other column
    timestamps = [rid for rid, o in outcomes(real["timestamps"]).items()
                  if o == "failed" and outcomes(real["clean"]).get(rid) == "passed"]
    assert timestamps and set(timestamps) <= set(row_keys(rows, "data-id"))


def test_links_point_to_existing_reports(real: dict[str, Path], three, tmp_path: Path) -> None:
    out, data = three
    html = out.read_text()
    hrefs = re.findall(r"href='([^']*report\.html[^']*)'", html)
    reports = [href for href in hrefs if "#" not in href]
    assert len(reports) == 3                                    # one per run, in the runs table
    for href in hrefs:
        path, _, anchor = unquote(href).partition("#")
        target = (out.parent / path).resolve()
        assert not os.path.isabs(path) and target.is_file(), href
        if anchor:
            assert f"id='{anchor}'" in target.read_text(), href
    assert [Path(run["report"]).resolve() for run in data["runs"]] == [
        (path.parent / "report.html").resolve() for path in real.values()]
    # a results.json without a report beside it: no link, and the runs table says so
    alone = tmp_path / "alone" / "results.json"
    alone.parent.mkdir()
    shutil.copy(real["tags"], alone)
    page = tmp_path / "page.html"
    proc = dxconform("compare", str(real["clean"]), str(alone), "--out", str(page), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = Cells(page.read_text()).find(data_col="report")
    assert runs == ["report.html", "none: no report.html beside this results.json"]
    assert "alone/report.html" not in page.read_text()


def test_diff_groups_regressions_by_root_cause(real: dict[str, Path], tmp_path: Path) -> None:
    out, json_out = tmp_path / "diff.html", tmp_path / "diff.json"
    proc = dxconform("compare", str(real["clean"]), str(real["timestamps"]), "--out", str(out), "--json",
                     str(json_out), "--fail-on-regression", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    diff = json.loads(json_out.read_text())["diff"]
    worse = diff["regressions"] + diff["new_failures"]
    groups = diff["worse_by_cause"]
    # the groups add up to the regressions and new failures, each result in exactly one group
    assert sum(group["count"] for group in groups) == len(worse)
    grouped = [rid for group in groups for rid in group["results"]]
    assert sorted(grouped) == sorted(c["id"] for c in worse)
    assert {rid for g in groups for rid in g["regressions"]} == {c["id"] for c in diff["regressions"]}
    # the timestamps' cause comes first and holds most of them
    top = groups[0]
    assert (top["rule"], top["how"], top["run"]) == ("timestamp_plausible", SECONDS, "timestamps")
    assert top["count"] > len(worse) / 2
    assert re.fullmatch(rf"{top['count']} × timestamp_plausible at \$\.created, \$\.modified.* — {SECONDS}",
                        top["line"])
    assert all(group["how"] == SECONDS for group in groups)
    # the page: one line per cause, expandable to its results
    html = out.read_text()
    causes = re.findall(r"<li data-rule='([^']*)' data-how='[^']*' data-count='(\d+)'><details><summary>", html)
    assert [(rule, int(n)) for rule, n in causes] == [(g["rule"], g["count"]) for g in groups]
    page = Cells(html)
    assert {row["data-id"] for row, _, _ in page.cells if row.get("data-change") == "regression"} == {
        c["id"] for c in diff["regressions"]}
    # the terminal: the same lines
    for group in groups:
        assert f"    {group['line']}\n" in proc.stdout
    # the other way round: fixes, by the first run's (timestamps) causes
    back = json.loads(_compare_json(real["timestamps"], real["clean"], tmp_path))["diff"]
    assert [(g["rule"], g["count"], g["run"]) for g in back["fixes_by_cause"]] == [
        (g["rule"], g["count"], "timestamps") for g in groups]


def _compare_json(first: Path, second: Path, where: Path) -> str:
    json_out = where / "back.json"
    proc = dxconform("compare", str(first), str(second), "--out", str(where / "back.html"), "--json",
                     str(json_out), cwd=where)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json_out.read_text()


def test_documents_without_root_causes_are_grouped_the_same(real: dict[str, Path], tmp_path: Path) -> None:
    document = json.loads(real["timestamps"].read_text())
    recorded = [(c["rule"], c["how"], c["count"]) for c in document.pop("root_causes")]
    assert [(c.rule, c.how, c.count) for c in root_causes(document["results"], document["finished"])] == recorded
    older = tmp_path / "older" / "results.json"
    older.parent.mkdir()
    older.write_text(json.dumps(document))
    _, before = load_runs([real["clean"], older])
    assert [(c["rule"], c["how"], c["count"]) for c in before.causes] == recorded
    data = json.loads(_compare_json(real["clean"], older, tmp_path))
    assert [(g["rule"], g["how"]) for g in data["diff"]["worse_by_cause"]] == [(r, h) for r, h, _ in recorded]


def test_profiles_per_run_and_not_implemented_cells(three) -> None:
    out, data = three
    page = Cells(out.read_text())
    for run in data["runs"]:
        assert run["profiles"]["core"] == "claimed"
        assert run["profiles"]["executables"] == "claimed"   # the embedded server implements it
        assert run["profiles"]["databases"] == "not-implemented"
    shown = page.find(data_col="profiles")
    assert len(shown) == 3 and all(text.startswith("claimed: core") and "not implemented: " in text
                                   and "databases" in text for text in shown)

    def cells(row: str) -> list[tuple[str, str]]:
        return [(cell["data-verdict"], text) for _, cell, text in page.cells if cell.get("data-row") == row]

    assert cells("profile:databases MUST") == [("not implemented", "not implemented")] * 3
    assert data["headline"]["databases MUST"][0]["score"] is None
    assert cells("route:/dbcluster/new") == [("not implemented", "not implemented")] * 3
    assert all("%" in text for _, text in cells("profile:core MUST"))
