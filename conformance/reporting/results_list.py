"""Every result of a run in report.html, compactly (failures and errors named in full, the rest counted), and the
environment the run had.

The lists fold by kind and outcome into <details>, which a browser opens without JavaScript. Failed and errored
results are named (up to FAILURES_NAMED_AT_MOST), each linking to its evidence. The other outcomes are named
when there are at most NAMED_AT_MOST of them; past that they are counted per file (cases) or check (check
results), and past GROUPS_AT_MOST such lines per folder: the page stays within its budget however many cases
run (ten copies of the suite: issue 21), and results.json remains the full record of every result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Outcome
from .failure_section import failure_anchor, shown_failures
from .first_screen import REASON_WORDS
from .html_kit import coloured, esc
from .tallies import FAILING

KIND_TITLES = (("profile", "profile claims"), ("case", "cases"), ("check", "check results (one per check and route)"))
# Results of one kind and outcome named one by one; more are counted. Failed and errored results are named up
# to a larger bound (each links to its block or line in the failures section, when it has one there).
NAMED_AT_MOST = 100
FAILURES_NAMED_AT_MOST = 1000
# Lines of counts (files, or checks) of one kind and outcome; more are counted per folder instead.
GROUPS_AT_MOST = 100


def _split(result_id: str) -> tuple[str, str]:
    """(group, name): a case's file and id, a check's name and route, a fuzz item's mode and route."""
    if "::" in result_id:
        group, _, name = result_id.partition("::")
        return group, name
    return result_id, ""


def _name(result: Mapping[str, Any], linked: set[str]) -> str:
    _, name = _split(result["id"])
    text = esc(name or result["id"])
    if result["id"] in linked:
        return f"<a href='#{failure_anchor(result['id'])}'>{text}</a>"
    return text


def _grouped(results: list[Mapping[str, Any]], linked: set[str]) -> str:
    """One line per file (cases) or check (check results): its names, comma-separated (those in `linked`
    link to their failure's block or line)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for result in results:
        groups.setdefault(_split(result["id"])[0], []).append(result)
    return "".join(f"<li><code>{esc(group)}</code>: {', '.join(_name(r, linked) for r in members)}</li>"
                   for group, members in groups.items())


def _folder(group: str) -> str:
    """The folder one level up: `copy-1/auth/apps.yaml` -> `copy-1/auth/`, `copy-1/auth/` -> `copy-1/`; a
    group without a folder stays as it is."""
    head = group.rstrip("/").rpartition("/")[0]
    return f"{head}/" if head else group


def group_counts(results: list[Mapping[str, Any]], at_most: int = GROUPS_AT_MOST) -> dict[str, int]:
    """How many results per file or check, merged into their folders (one level at a time) while there are
    more than `at_most` lines."""
    counts: dict[str, int] = {}
    for result in results:
        group = _split(result["id"])[0]
        counts[group] = counts.get(group, 0) + 1
    while len(counts) > at_most:
        merged: dict[str, int] = {}
        for group, count in counts.items():
            merged[_folder(group)] = merged.get(_folder(group), 0) + count
        if len(merged) == len(counts):   # nothing left to merge
            break
        counts = merged
    return counts


def _counted(results: list[Mapping[str, Any]]) -> str:
    """One line per file or check (or folder): how many results."""
    return ("".join(f"<li><code>{esc(group)}</code>: {count}</li>" for group, count in group_counts(results).items())
            + "<li class='muted'>each by name in results.json</li>")


def _reasons(results: list[Mapping[str, Any]]) -> str:
    """For results that tested nothing: how many for each reason (the results' `reason`, or their kind)."""
    counts: dict[str, int] = {}
    for result in results:
        key = REASON_WORDS.get(result.get("reason", ""), "")
        if key:
            counts[key] = counts.get(key, 0) + 1
    return "; ".join(f"{count}: {why}" for why, count in counts.items())


def results_section(document: Mapping[str, Any]) -> str:
    """Per kind of result, per outcome: a folded list grouped by file or check (failed and errored open, named
    up to FAILURES_NAMED_AT_MOST; the other outcomes named up to NAMED_AT_MOST results, else counted)."""
    parts = ["<h2 id='dx-results'>Every result</h2>"]
    linked = shown_failures(document)
    for kind, title in KIND_TITLES:
        results = [r for r in document["results"] if r.get("kind", "case") == kind]
        if not results:
            continue
        parts.append(f"<h3>{esc(title)}: {len(results)}</h3>")
        for outcome in Outcome:
            chosen = [r for r in results if r["outcome"] == outcome.value]
            if not chosen:
                continue
            opened = " open" if outcome.value in FAILING else ""
            why = _reasons(chosen)
            named = len(chosen) <= (FAILURES_NAMED_AT_MOST if outcome.value in FAILING else NAMED_AT_MOST)
            parts.append(f"<details class='results' data-kind='{kind}' data-outcome='{outcome.value}'"
                         f" data-listed='{'named' if named else 'counted'}'{opened}>"
                         f"<summary>{coloured(outcome.value)} {len(chosen)}"
                         + (f" <span class='muted'>({esc(why)})</span>" if why else "")
                         + "</summary><ul class='ids'>" + (_grouped(chosen, linked) if named else _counted(chosen))
                         + "</ul></details>")
    return "".join(parts)


def environment_section(document: Mapping[str, Any]) -> str:
    """What the run was: server, suite version and schemas digest, seed, fuzzing budget, times."""
    server = document["server"]
    rows = [("Server under test", esc(server["url"]) + (" (embedded reference server)" if server["embedded"]
                                                         else "")),
            ("dxconform version", esc(document["suite"]["version"])),
            ("schemas sha256", f"<code>{esc(document['suite']['schemas_sha256'])}</code>"),
            ("results format", esc(document.get("format", "")))]
    if "seed" in document:
        rows.append(("seed", esc(document["seed"])))
    fuzz = document.get("fuzz")
    if isinstance(fuzz, Mapping):
        rows.append(("fuzzing", esc(f"{fuzz.get('examples')} examples per route and mode")))
    for key, value in sorted((document.get("environment") or {}).items()):
        rows.append((esc(key), esc(value)))
    return ("<h2 id='dx-environment'>Environment</h2><table class='meta'>"
            + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows) + "</table>")
