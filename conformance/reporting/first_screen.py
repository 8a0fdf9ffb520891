"""The top of report.html, what a reader sees first: the verdict, each profile's, the root causes, what was not tested.

Everything here fits the first screen of a laptop (1400 x 1000): one line of verdict, a compact table of
profiles, the largest root causes as one line each, and one line per kind of result that tested nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from ..model import Level, NotRunReason, Outcome, UnsupportedReason
from .html_kit import coloured, esc
from .tallies import (
    NOT_IMPLEMENTED,
    NOT_IMPLEMENTED_VERDICT,
    Score,
    by_profile_level,
    profile_statuses,
    score,
    tally,
)

ROOT_CAUSES_ON_TOP = 6
LEVELS = tuple(level.value for level in Level)
REASON_WORDS = {UnsupportedReason.ROUTE_ABSENT.value: "the server does not have the route",
                UnsupportedReason.NO_SECOND_USER.value: "the case needs a second user (no --token2)",
                UnsupportedReason.NOT_FUZZED.value: "a fuzz item had nothing to drive (no container lent)"}


def cause_anchor(index: int) -> str:
    return f"dx-cause-{index + 1}"


INCOMPLETE = "incomplete"    # the verdict of a run that stopped before it ran everything (results.json `stopped`)


def gate_verdict(document: Mapping[str, Any]) -> tuple[str, str]:
    """(verdict word, one line): the run's verdict as the exit code sees it (a failed or errored MUST result
    fails it)."""
    results = document["results"]
    must = score(tally(r for r in results if r["level"] == Level.MUST.value))
    overall = score(document["summary"])
    others = overall.failing - must.failing
    stopped = document.get("stopped")
    if stopped:   # no verdict on a run that did not run everything (it exits 2)
        failing = f"; {must.failing} MUST failure(s) in what ran" if must.failing else ""
        return INCOMPLETE, f"the run stopped: {stopped['message']}; {stopped['not_run']} not run{failing}"
    if must.failing:
        return "fail", f"{must.failing} MUST failure(s)" + (f", {others} SHOULD/MAY failure(s)" if others else "")
    word = "known failures" if overall.known_failing else "pass" if overall.passing else overall.verdict
    return word, "no MUST failure" + (f"; {others} SHOULD/MAY failure(s)" if others else "")


def verdict_banner(document: Mapping[str, Any]) -> str:
    word, line = gate_verdict(document)
    server = document["server"]
    where = esc(server["url"]) + (" (embedded reference server)" if server["embedded"] else "")
    seconds = max(0, int(document["finished"]) - int(document["started"])) / 1000
    counts = ", ".join(f"{count} {outcome}" for outcome, count in document["summary"].items() if count)
    return (f"<h2 id='dx-headline' class='banner'>Verdict: {coloured(word)} <span id='dx-gate'>{esc(line)}</span>"
            f"</h2><p class='muted'>{where}; {len(document['results'])} results ({esc(counts)}) in "
            f"{seconds:.1f} s</p>")


def _level_cell(status: str, counts: Mapping[str, int] | None) -> str:
    if status == NOT_IMPLEMENTED or not counts or not sum(counts.values()):
        return "<td class='muted'>-</td>"
    verdict: Score = score(counts)
    text = f"{verdict.percent} ({verdict.passing}/{verdict.judged})" if verdict.judged else verdict.verdict
    return f"<td>{coloured(verdict.verdict, text)}</td>"


def profiles_table(document: Mapping[str, Any]) -> str:
    """One row per profile: its status (claimed, detected, not implemented) and a score per level."""
    table = by_profile_level(document["results"])
    rows = []
    for profile, status in profile_statuses(document).items():
        levels = table.get(profile) or {}
        word = NOT_IMPLEMENTED_VERDICT if status == NOT_IMPLEMENTED else status
        rows.append(f"<tr data-profile-status='{esc(status)}'><td>{esc(profile)}</td><td>{coloured(word)}</td>"
                    + "".join(_level_cell(status, levels.get(level)) for level in LEVELS) + "</tr>")
    return ("<table id='dx-profiles' class='compact'><tr><th>profile</th><th>status</th>"
            + "".join(f"<th>{level}</th>" for level in LEVELS) + "</tr>" + "".join(rows) + "</table>")


def root_causes_list(document: Mapping[str, Any]) -> str:
    causes = document.get("root_causes") or []
    if not causes:
        return "<p id='dx-root-causes'>Root causes: none, nothing failed.</p>"
    items = [f"<li><a href='#{cause_anchor(i)}'><b class='count'>{cause['count']} &times;</b> "
             f"{esc(cause['line'].split(' × ', 1)[1])}</a></li>" for i, cause in enumerate(causes[:ROOT_CAUSES_ON_TOP])]
    more = (f"<li class='muted'>... {len(causes) - ROOT_CAUSES_ON_TOP} more below</li>"
            if len(causes) > ROOT_CAUSES_ON_TOP else "")
    return (f"<h3>Root causes ({len(causes)}, largest first)</h3><ol id='dx-root-causes'>{''.join(items)}{more}"
            "</ol>")


NOT_RUN_REASONS = {NotRunReason.DEADLINE.value: "the run's deadline passed first (--deadline)",
                   NotRunReason.SERVER_STOPPED.value: "the server had stopped answering (the breaker tripped)"}


def not_tested_lines(document: Mapping[str, Any]) -> list[str]:
    """What the run did not test, one line a kind: unsupported by reason, not-applicable checks, profiles not
    implemented, skipped results."""
    results = document["results"]
    lines = []
    reasons = Counter(r.get("reason") or "other" for r in results if r["outcome"] == Outcome.UNSUPPORTED.value)
    for reason, count in reasons.most_common():
        lines.append(f"{count} unsupported: {REASON_WORDS.get(reason, 'not testable on this server')}")
    applied_nowhere = Counter(r["id"].split("::", 1)[0].removeprefix("checks/") for r in results
                              if r["outcome"] == Outcome.NOT_APPLICABLE.value)
    if applied_nowhere:
        top = ", ".join(f"{name} ({count})" for name, count in applied_nowhere.most_common(4))
        lines.append(f"{sum(applied_nowhere.values())} not-applicable check results: the rule found nothing to "
                     f"apply to on that route ({top})")
    missing = [name for name, status in profile_statuses(document).items() if status == NOT_IMPLEMENTED]
    if missing:
        lines.append(f"{len(missing)} profile(s) not implemented (neither claimed nor detected): "
                     + ", ".join(missing))
    not_run = Counter(r["reason"] for r in results if r["outcome"] == Outcome.SKIPPED.value
                      and r.get("reason") in NOT_RUN_REASONS)
    for reason, count in not_run.most_common():
        lines.append(f"{count} not run: {NOT_RUN_REASONS[reason]}")
    skipped = sum(1 for r in results if r["outcome"] == Outcome.SKIPPED.value) - sum(not_run.values())
    if skipped:
        lines.append(f"{skipped} skipped (not selected in this run)")
    return lines


def not_tested_list(document: Mapping[str, Any]) -> str:
    lines = not_tested_lines(document)
    if not lines:
        return "<p id='dx-not-tested'>Not tested: nothing; every result tested something.</p>"
    return ("<h3>Not tested</h3><ul id='dx-not-tested'>" + "".join(f"<li>{esc(line)}</li>" for line in lines)
            + "</ul>")


def first_screen(document: Mapping[str, Any]) -> str:
    return (verdict_banner(document) + profiles_table(document) + root_causes_list(document)
            + not_tested_list(document))
