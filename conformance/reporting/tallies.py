"""Counting a results document: tallies by profile and level, area and topic, route; the score of a tally.

Every number a report, a badge or a comparison shows comes from here, so they all agree with results.json.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..model import Area, Level, Outcome

Tally = dict[str, int]

# How an outcome counts in a score. A flaky result passed on a rerun; an xpassed one passed although the
# expectations file expected it to fail. An xfailed result is a known failure: it does not fail the run,
# but neither is it a pass, so it stays in the denominator.
PASSING = (Outcome.PASSED.value, Outcome.FLAKY.value, Outcome.XPASSED.value)
FAILING = (Outcome.FAILED.value, Outcome.ERROR.value)
KNOWN_FAILING = (Outcome.XFAILED.value,)
# Results that tested nothing: counted, never judged (no percentage includes them).
NOT_COUNTED = (Outcome.UNSUPPORTED.value, Outcome.NOT_APPLICABLE.value, Outcome.SKIPPED.value)
# A profile's status (results.json `profiles`): claimed by the user, detected by the probe, or neither.
CLAIMED, DETECTED, NOT_IMPLEMENTED = "claimed", "detected", "not-implemented"
NOT_IMPLEMENTED_VERDICT = "not implemented"
CORE_PROFILE = "core"
LEVELS = tuple(level.value for level in Level)
AREAS = tuple(area.value for area in Area)


def empty_tally() -> Tally:
    return dict.fromkeys((outcome.value for outcome in Outcome), 0)


def tally(results: Iterable[Mapping[str, Any]]) -> Tally:
    counts = empty_tally()
    for result in results:
        counts[result["outcome"]] += 1
    return counts


def add_into(total: Tally, part: Mapping[str, int]) -> Tally:
    for outcome, count in part.items():
        total[outcome] = total.get(outcome, 0) + count
    return total


def profile_order(profiles: Iterable[str]) -> list[str]:
    """core first (the profile every server must implement), then the optional ones by name."""
    names = set(profiles)
    return ([CORE_PROFILE] if CORE_PROFILE in names else []) + sorted(names - {CORE_PROFILE})


def by_profile_level(results: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Tally]]:
    """{profile: {level: tally}}: every profile present, and under it every level (empty ones too)."""
    table: dict[str, dict[str, Tally]] = {}
    for result in results:
        row = table.get(result["profile"])
        if row is None:   # (not setdefault: its default would be built for every result, of tens of thousands)
            row = table[result["profile"]] = {level: empty_tally() for level in LEVELS}
        row[result["level"]][result["outcome"]] += 1
    return {profile: table[profile] for profile in profile_order(table)}


def by_area_topic(results: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Tally]]:
    """{area: {topic: tally}}, areas in their declared order, topics by name."""
    table: dict[str, dict[str, Tally]] = {}
    for result in results:
        topics = table.setdefault(result["area"], {})
        topic = result.get("topic") or "-"
        if topic not in topics:
            topics[topic] = empty_tally()
        topics[topic][result["outcome"]] += 1
    order = [a for a in AREAS if a in table] + sorted(set(table) - set(AREAS))
    return {area: dict(sorted(table[area].items())) for area in order}


@dataclass(frozen=True)
class RouteTally:
    """What a run did with one route: requests sent, case results naming it, check results on it."""

    exchanges: int
    cases: Tally
    checks: Tally


def by_route(results: Iterable[Mapping[str, Any]], route_keys: Iterable[str], *,
             only_listed: bool = False) -> dict[str, RouteTally]:
    """One entry per route of `route_keys` (all 208), then (unless `only_listed`) any other route a result
    names: URL-form cases name concrete paths outside the route table, such as `/system/WhoAmI`."""
    exchanges: dict[str, int] = {}
    cases: dict[str, Tally] = {}
    checks: dict[str, Tally] = {}
    for result in results:
        target = checks if result.get("kind") == "check" else cases
        for route in dict.fromkeys(result.get("routes") or []):
            target.setdefault(route, empty_tally())[result["outcome"]] += 1
        for exchange in result.get("exchanges") or []:
            if exchange.get("route"):
                exchanges[exchange["route"]] = exchanges.get(exchange["route"], 0) + 1
    keys = list(dict.fromkeys(route_keys))
    if not only_listed:
        keys += sorted((set(cases) | set(checks) | set(exchanges)) - set(keys))
    return {key: RouteTally(exchanges.get(key, 0), cases.get(key) or empty_tally(), checks.get(key) or empty_tally())
            for key in keys}


@dataclass(frozen=True)
class Score:
    """A tally read as a verdict: pass, fail, known failures only, unsupported, or not run."""

    passing: int
    failing: int
    known_failing: int
    not_counted: int

    @property
    def judged(self) -> int:
        return self.passing + self.failing + self.known_failing

    @property
    def verdict(self) -> str:
        if self.failing:
            return "fail"
        if self.known_failing:
            return "known failures"
        if self.passing:
            return "pass"
        return "unsupported" if self.not_counted else "not run"

    @property
    def percent(self) -> str:
        """Share of judged results that passed, rounded down (99.96% shows as 99.9%, never as 100%)."""
        if not self.judged:
            return "n/a"
        if self.passing == self.judged:
            return "100%"
        tenths = math.floor(self.passing * 1000 / self.judged)
        return f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths / 10:.1f}%"


def profile_statuses(document: Mapping[str, Any]) -> dict[str, str]:
    """{profile: claimed | detected | not-implemented} for every profile the document has results or a status
    for. A document without statuses (format /1) predates the probe: its profiles count as detected."""
    recorded = document.get("profiles")
    names = profile_order(set(recorded or {}) | {r["profile"] for r in document["results"]})
    if recorded is None:
        return {name: CLAIMED if name == CORE_PROFILE else DETECTED for name in names}
    return {name: (recorded.get(name) or {}).get("status", NOT_IMPLEMENTED) for name in names}


def implemented(document: Mapping[str, Any], profile: str) -> bool:
    """False for a profile neither claimed nor detected: it gets no percentage, anywhere."""
    return profile_statuses(document).get(profile, DETECTED) != NOT_IMPLEMENTED


def score(counts: Mapping[str, int]) -> Score:
    return Score(passing=sum(counts.get(o, 0) for o in PASSING), failing=sum(counts.get(o, 0) for o in FAILING),
                 known_failing=sum(counts.get(o, 0) for o in KNOWN_FAILING),
                 not_counted=sum(counts.get(o, 0) for o in NOT_COUNTED))


def route_outcome(route: RouteTally) -> str:
    """One word for a route in a matrix cell: fail, pass, unsupported, known failures, or not run."""
    return score(add_into(dict(route.cases), route.checks)).verdict
