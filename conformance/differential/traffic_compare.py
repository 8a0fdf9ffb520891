"""Judging a replayed recording beyond the answers' bodies: the header rules of API answers, whether an API
exchange matches, and the replay's figures (matches per route, differences per kind, ignored ones per reason)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .compare import Difference, StepPair
from .config import DiffConfig
from .walker import ABSENT

# An API exchange matches when, after the ignores, none of its differences is of these kinds: the same status,
# the same error type and the same key sets at every depth (an answer that never came cannot match either).
MATCH_KINDS = frozenset({"status", "error-type", "only-in-golden", "only-in-candidate", "no-answer"})
# Headers an API answer must carry where the recorded answer has them (presence only: their values vary).
PRESENT_HEADERS = ("x-request-id", "x-content-type-options", "content-length")
HEADER = "header"
FIGURE_LABEL = "API exchanges matching on status, error type and key set"
EXAMPLES_PER_KIND = 3
EXAMPLE_VALUE_CHARS = 80


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {name.lower(): value for name, value in (headers or {}).items()}


def _compact(content_type: str) -> str:
    """A Content-Type without its optional whitespace and with its case folded (`application/json;charset=utf-8`)."""
    return "".join(content_type.split()).lower()


def header_differences(case_id: str, step: str, route: str, golden: Mapping[str, Any] | None,
                       candidate: Mapping[str, Any] | None) -> list[Difference]:
    """Kind `header`: the Content-Type as recorded, parameters (charset) included (a different media type is
    already a `content-type` difference), and the headers of PRESENT_HEADERS where the recording has them."""
    if golden is None or candidate is None:
        return []
    mine, theirs = _lower(golden.get("headers")), _lower(candidate.get("headers"))
    found = []
    recorded, sent = mine.get("content-type"), theirs.get("content-type")
    if (recorded is not None and sent is not None and _compact(recorded) != _compact(sent)
            and _compact(recorded).split(";", 1)[0] == _compact(sent).split(";", 1)[0]):
        found.append(Difference(case_id, step, route, HEADER, "header content-type", recorded, sent,
                                "the media type agrees, its parameters (charset) do not"))
    for name in PRESENT_HEADERS:
        if name in mine and name not in theirs:
            found.append(Difference(case_id, step, route, HEADER, f"header {name}", mine[name], ABSENT,
                                    "the recorded answer has this header, this one does not"))
    return found


@dataclass
class TrafficFigures:
    """The figures of one replay, added up exchange by exchange (results.json `traffic`)."""

    api_exchanges: int = 0
    matched: int = 0
    matched_without_ignores: int = 0     # as if no ignore file applied: what the ignore file accounts for
    storage_exchanges: int = 0
    by_kind: Counter = field(default_factory=Counter)
    by_route: dict[str, dict[str, int]] = field(default_factory=dict)
    ignored: Counter = field(default_factory=Counter)

    def add(self, pair: StepPair, config: DiffConfig) -> None:
        kept = []
        for difference in pair.differences:
            rule = config.ignored_by(difference)
            if rule is not None:
                self.ignored[rule.reason] += 1
            else:
                kept.append(difference)
                self.by_kind[difference.kind] += 1
        recorded = pair.golden or {}
        if recorded.get("storage"):
            self.storage_exchanges += 1
            return
        self.api_exchanges += 1
        route = self.by_route.setdefault(recorded.get("route") or "(no route)", {"exchanges": 0, "matched": 0})
        route["exchanges"] += 1
        if not any(d.kind in MATCH_KINDS for d in kept):
            self.matched += 1
            route["matched"] += 1
        if not any(d.kind in MATCH_KINDS for d in pair.differences):
            self.matched_without_ignores += 1

    @property
    def match_percent(self) -> float:
        return percent(self.matched, self.api_exchanges)

    def to_json(self) -> dict[str, Any]:
        return {"api_exchanges": self.api_exchanges, "matched": self.matched, "match_percent": self.match_percent,
                "matched_without_ignores": self.matched_without_ignores,
                "storage_exchanges": self.storage_exchanges, "by_kind": dict(self.by_kind.most_common()),
                "by_route": dict(sorted(self.by_route.items())), "ignored": dict(self.ignored.most_common())}


def figure_line(traffic: Mapping[str, Any]) -> str:
    """The figure, and what it would be without the ignore files (what they account for)."""
    line = f"{FIGURE_LABEL}: {traffic['matched']}/{traffic['api_exchanges']} ({traffic['match_percent']}%)"
    raw = traffic.get("matched_without_ignores")
    if raw is not None and raw != traffic["matched"]:
        line += f"; without the ignore files: {raw}/{traffic['api_exchanges']} ({percent(raw, traffic['api_exchanges'])}%)"
    return line


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _shown(finding: Mapping[str, Any], side: str) -> str:
    text = json.dumps(finding[side], ensure_ascii=False) if side in finding else "(absent)"
    return text if len(text) <= EXAMPLE_VALUE_CHARS else text[:EXAMPLE_VALUE_CHARS] + "..."


def examples_by_kind(document: Mapping[str, Any], per_kind: int = EXAMPLES_PER_KIND) -> dict[str, list[str]]:
    """The first `per_kind` differences of each kind in results.json, one line each (case, where, both sides)."""
    examples: dict[str, list[str]] = {}
    for result in document["results"]:
        for finding in result["findings"]:
            shown = examples.setdefault(finding["title"], [])
            if len(shown) < per_kind:
                shown.append(f"{result['id']} {finding['message']}: recorded {_shown(finding, 'expected')}, "
                             f"here {_shown(finding, 'actual')}")
    return examples


def terminal_lines(document: Mapping[str, Any]) -> list[str]:
    """The figure, then the differences grouped by kind: count and the first few examples."""
    traffic = document["traffic"]
    lines = [figure_line(traffic), f"storage exchanges replayed: {traffic['storage_exchanges']}"]
    ignored = sum(traffic["ignored"].values())
    lines.append(f"differences by kind ({sum(traffic['by_kind'].values())} kept, {ignored} ignored):"
                 if traffic["by_kind"] or ignored else "no difference")
    examples = examples_by_kind(document)
    for kind, count in traffic["by_kind"].items():
        lines.append(f"  {kind}: {count}")
        lines.extend(f"    {example}" for example in examples.get(kind, []))
    return lines
