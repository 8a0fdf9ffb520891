"""Failures grouped by root cause: the rule that broke, how it broke, and where (JSON path patterns), largest first.

One bug of a server often fails hundreds of results (timestamps in seconds break `timestamp_plausible` on every
`created` of every answer). A reader needs the one line "171 x timestamp_plausible at $.created, $.modified —
values look like seconds, not milliseconds" before the 171 results. The grouping reads the structured failure
record of a case (`failure.misses`) and the first finding of a check result; never message text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import json_type

BROKEN = ("failed", "error")
# Timestamps: milliseconds since the epoch after 2000-01-01 (checks/datatypes.py says why).
EARLIEST_MS = 946_684_800_000
ONE_YEAR_MS = 366 * 24 * 3600 * 1000
PATHS_SHOWN = 4
TIMESTAMP_KEYS = frozenset({"created", "modified"})
_INDEX = re.compile(r"\[\d+\]")
# A path segment that is an entity ID or a run's own name: one pattern for all of them.
_ID_KEY = re.compile(r'\["?(?:[a-z]+-[0-9A-Za-z]{24}|dxc-[0-9a-f]{8}[^"\]]*)"?\]|\.[a-z]+-[0-9A-Za-z]{24}')


def path_pattern(path: str) -> str:
    """`$.results[3].describe.created` -> `$.results[*].describe.created`; ID keys -> `[{id}]`."""
    return _ID_KEY.sub("[{id}]", _INDEX.sub("[*]", path or "$"))


def _kind(value: Any, missing: bool = False) -> str:
    if missing:
        return "missing"
    kind = json_type(value)
    return "number with a fraction" if kind == "number" else kind


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _timestamp_how(actual: Any, now_ms: int) -> str:
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return f"{_a(_kind(actual))} where a timestamp belongs"
    if EARLIEST_MS / 1000 <= actual < EARLIEST_MS:
        return "values look like seconds, not milliseconds"
    if actual < EARLIEST_MS:
        return "values before 2000-01-01"
    if actual > now_ms + ONE_YEAR_MS:
        return "values more than a year in the future"
    return "implausible values"


def _status_how(expected: Any, actual: Any) -> str:
    if isinstance(actual, int) and 200 <= actual < 300:
        return f"a success ({actual}) where a refusal was expected"
    if isinstance(actual, int) and actual >= 500:
        return f"a server error ({actual})"
    shown = expected if not isinstance(expected, list) else "/".join(map(str, expected))
    return f"status {actual} where {shown} was expected"


def _looks_like_seconds(actual: Any) -> bool:
    return isinstance(actual, int) and not isinstance(actual, bool) and EARLIEST_MS / 1000 <= actual < EARLIEST_MS


def how_it_broke(rule: str, expected: Any, actual: Any, missing: bool = False, now_ms: int | None = None,
                 path: str = "") -> str:
    """A short phrase for the kind of breakage, the same for every result one bug breaks the same way."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    if rule == "timestamp_plausible":
        return _timestamp_how(actual, now_ms)
    if path.rsplit(".", 1)[-1] in TIMESTAMP_KEYS and _looks_like_seconds(actual):
        return "values look like seconds, not milliseconds"
    if rule in ("status", "no_server_error", "error_status"):
        return _status_how(expected, actual)
    if rule in ("error", "documented_error_type") and not missing:
        return f"error type {actual!r} where {expected!r} was expected"
    if rule == "strict_int":
        return "integers written with a fraction or an exponent"
    if rule == "json_content_type":
        return f"Content-Type {actual!r}"
    if missing:
        return "the value is missing"
    if rule.startswith("$"):
        # An operator matcher ($gte, $regex, $each...): its expected value is the operator's spec, not a value.
        return f"{_a(_kind(actual))} that fails {rule}"
    expected_kind, actual_kind = _kind(expected), _kind(actual)
    if rule == "schema" or expected_kind == "string" and isinstance(expected, str) and expected.startswith("#"):
        return "does not match the schema"
    if expected_kind != actual_kind and expected is not None:
        return f"{_a(actual_kind)} where {_a(expected_kind)} was expected"
    return "a different value than expected"


@dataclass(frozen=True)
class Breakage:
    """One broken result read as data: which rule, how, where (every path the rule broke at), which routes."""

    result_id: str
    rule: str
    how: str
    paths: tuple[str, ...]
    routes: tuple[str, ...]
    level: str
    kind: str


def _from_record(result: Mapping[str, Any], rule: str, how: str, *paths: str) -> Breakage:
    patterns = tuple(dict.fromkeys(path_pattern(path) for path in paths)) or ("$",)
    return Breakage(result["id"], rule, how, patterns, tuple(result.get("routes") or ()),
                    result.get("level", ""), result.get("kind", "case"))


def breakage_of(result: Mapping[str, Any], now_ms: int | None = None) -> Breakage:
    """The root cause of one failed or errored result: its failure record's first miss, its first finding
    (a check result), or the error it ended in."""
    failure = result.get("failure") or {}
    misses = failure.get("misses") or []
    if misses:
        miss = misses[0]
        rule = str(miss.get("matcher") or "expect")
        path = str(miss.get("path", ""))
        how = how_it_broke(rule, miss.get("expected"), miss.get("actual"), "actual" not in miss, now_ms, path)
        return _from_record(result, rule, how, *_same_rule_paths(misses, rule, "matcher"))
    findings = result.get("findings") or []
    if result.get("kind") == "check" and findings:
        finding = findings[0]
        if finding.get("internal"):
            return _from_record(result, finding.get("check", "check"), "the check crashed (a suite bug)")
        rule = str(finding.get("check", "check"))
        path = str(finding.get("path", ""))
        how = how_it_broke(rule, finding.get("expected"), finding.get("actual"), "actual" not in finding, now_ms,
                           path)
        return _from_record(result, rule, how, *_same_rule_paths(findings, rule, "check"))
    if result.get("kind") == "profile":
        return _from_record(result, "profile claim", "claimed routes missing or not answering")
    return _from_record(result, _error_rule(result, failure), _error_how(result, failure))


def _same_rule_paths(entries: list[Mapping[str, Any]], rule: str, key: str) -> list[str]:
    return [str(entry.get("path", "")) for entry in entries if str(entry.get(key) or "expect") == rule]


def _error_rule(result: Mapping[str, Any], failure: Mapping[str, Any]) -> str:
    if result.get("outcome") == "error":
        return "no answer" if _transport_error(result, failure) else f"{failure.get('phase') or 'case'} error"
    return "expectation"


def _transport_error(result: Mapping[str, Any], failure: Mapping[str, Any]) -> str:
    index = failure.get("exchange_index")
    exchanges = result.get("exchanges") or []
    if isinstance(index, int) and 0 <= index < len(exchanges):
        error = exchanges[index].get("error") or {}
        return str(error.get("kind") or "")
    return ""


def _error_how(result: Mapping[str, Any], failure: Mapping[str, Any]) -> str:
    kind = _transport_error(result, failure)
    if kind:
        return f"the server gave no complete answer ({kind})"
    phase = failure.get("phase")
    return f"the case could not run its {phase}" if phase else "the case could not run"


@dataclass
class RootCause:
    """Results one cause broke: the rule, how, the path patterns, the results and routes, one representative."""

    rule: str
    how: str
    paths: list[str] = field(default_factory=list)
    result_ids: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.result_ids)

    @property
    def representative(self) -> str:
        return self.result_ids[0]

    @property
    def where(self) -> str:
        """The JSON paths it broke at (not `status` or a header: the rule names those already)."""
        paths = [p for p in self.paths if p.startswith("$") and p != "$"]
        more = len(paths) - PATHS_SHOWN
        return ", ".join(paths[:PATHS_SHOWN]) + (f" (+{more} more)" if more > 0 else "")

    def line(self) -> str:
        """`171 × timestamp_plausible at $.created, $.modified — values look like seconds, not milliseconds`."""
        where = f" at {self.where}" if self.where else ""
        return f"{self.count} × {self.rule}{where} — {self.how}"

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "how": self.how, "count": self.count, "paths": self.paths,
                "levels": self.levels, "kinds": self.kinds, "routes": self.routes, "results": self.result_ids,
                "representative": self.representative, "line": self.line()}


def root_causes(results: Iterable[Mapping[str, Any]], now_ms: int | None = None) -> list[RootCause]:
    """The failed and errored results grouped by (rule, how), largest group first (then by rule)."""
    groups: dict[tuple[str, str], RootCause] = {}
    for result in results:
        if result.get("outcome") not in BROKEN:
            continue
        broke = breakage_of(result, now_ms)
        cause = groups.setdefault((broke.rule, broke.how), RootCause(broke.rule, broke.how))
        cause.result_ids.append(broke.result_id)
        cause.paths.extend(path for path in broke.paths if path not in cause.paths)
        cause.routes.extend(route for route in broke.routes if route not in cause.routes)
        cause.levels[broke.level] = cause.levels.get(broke.level, 0) + 1
        cause.kinds[broke.kind] = cause.kinds.get(broke.kind, 0) + 1
    for cause in groups.values():
        cause.paths.sort(key=lambda p: (p.count("."), p))
    strength = {"MUST": 0, "SHOULD": 1, "MAY": 2}
    return sorted(groups.values(), key=lambda c: (-c.count, min(strength.get(lv, 3) for lv in c.levels),
                                                  c.rule, c.how))
