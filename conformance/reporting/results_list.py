"""Every result of a run in report.html, compactly (failures and errors open, the rest folded), and the
environment the run had.

One line a result: its outcome, id and (for what did not pass) the reason. The lists fold by kind and outcome
into <details>, which a browser opens without JavaScript; a failed result links to its evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Outcome
from .failure_section import failure_anchor
from .first_screen import REASON_WORDS
from .html_kit import coloured, esc
from .tallies import FAILING

KIND_TITLES = (("profile", "profile claims"), ("case", "cases"), ("check", "check results (one per check and route)"))


def _split(result_id: str) -> tuple[str, str]:
    """(group, name): a case's file and id, a check's name and route, a fuzz item's mode and route."""
    if "::" in result_id:
        group, _, name = result_id.partition("::")
        return group, name
    return result_id, ""


def _name(result: Mapping[str, Any]) -> str:
    _, name = _split(result["id"])
    text = esc(name or result["id"])
    if result["outcome"] in FAILING:
        return f"<a href='#{failure_anchor(result['id'])}'>{text}</a>"
    return text


def _grouped(results: list[Mapping[str, Any]]) -> str:
    """One line per file (cases) or check (check results): its names, comma-separated."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for result in results:
        groups.setdefault(_split(result["id"])[0], []).append(result)
    return "".join(f"<li><code>{esc(group)}</code>: {', '.join(_name(r) for r in members)}</li>"
                   for group, members in groups.items())


def _reasons(results: list[Mapping[str, Any]]) -> str:
    """For results that tested nothing: how many for each reason (the results' `reason`, or their kind)."""
    counts: dict[str, int] = {}
    for result in results:
        key = REASON_WORDS.get(result.get("reason", ""), "")
        if key:
            counts[key] = counts.get(key, 0) + 1
    return "; ".join(f"{count}: {why}" for why, count in counts.items())


def results_section(document: Mapping[str, Any]) -> str:
    """Per kind of result, per outcome: a folded list grouped by file or check (failed and errored open)."""
    parts = ["<h2 id='dx-results'>Every result</h2>"]
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
            parts.append(f"<details class='results' data-kind='{kind}' data-outcome='{outcome.value}'{opened}>"
                         f"<summary>{coloured(outcome.value)} {len(chosen)}"
                         + (f" <span class='muted'>({esc(why)})</span>" if why else "")
                         + "</summary><ul class='ids'>" + _grouped(chosen) + "</ul></details>")
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
