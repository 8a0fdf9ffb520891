"""Differences as results (area semantics, topic differential): one result per case, one finding per difference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Level, Outcome
from .compare import Difference, StepPair
from .config import DiffConfig
from .volatile import Placeholders, map_strings
from .walker import ABSENT

AREA, TOPIC, CHECK = "semantics", "differential", "differential"
SOURCE = "differential mode: the golden recording's answer to the same request (docs/differential.md)"
DIFF_KEY = "differential"      # results.json: a result's steps with both answers, for the side-by-side view
_STRENGTH = {"MUST": 3, "SHOULD": 2, "MAY": 1}
SHOWN_IN_MESSAGE = 3


def exchange_json(record: Mapping[str, Any] | None, placeholders: Placeholders) -> dict[str, Any] | None:
    """A recorded exchange in results.json's exchange form (request and response with text bodies)."""
    if record is None:
        return None
    import json

    request = map_strings(dict(record["request"]), placeholders.reveal)
    answer = record.get("response")

    def body(part: Mapping[str, Any]) -> str:
        return json.dumps(part["json"]) if "json" in part else part.get("text", "")

    headers = dict(request.get("headers") or {})
    if request.get("auth"):
        headers["Authorization"] = "Bearer ***"
    result: dict[str, Any] = {
        "request": {"method": request["method"], "url": request["url"], "path": request["path"],
                    "headers": headers, "body": body(request)},
        "response": None if answer is None else {"status": answer["status"], "headers": answer.get("headers") or {},
                                                 "body": body(answer), "truncated": bool(answer.get("truncated"))},
        "elapsed_ms": 0}
    if record.get("route"):
        result["route"] = record["route"]
    if record.get("error"):
        result["error"] = record["error"]
    return result


def finding_json(difference: Difference, level: str) -> dict[str, Any]:
    record = {"check": CHECK, "level": level, "area": AREA, "source": SOURCE, "title": difference.kind,
              "message": difference.describe(), "path": difference.path or difference.step}
    if difference.golden is not ABSENT:
        record["expected"] = difference.golden
    if difference.candidate is not ABSENT:
        record["actual"] = difference.candidate
    return record


def case_result(case: Mapping[str, Any], pairs: list[StepPair], config: DiffConfig, golden: Placeholders,
                candidate: Placeholders, *, duration_ms: int = 0) -> dict[str, Any]:
    """The result of one case: passed without differences, failed with them, at the strongest level found."""
    kept: list[tuple[Difference, str]] = []
    ignored: dict[str, int] = {}
    for pair in pairs:
        for difference in pair.differences:
            rule = config.ignored_by(difference)
            if rule is not None:
                ignored[rule.reason] = ignored.get(rule.reason, 0) + 1
            else:
                kept.append((difference, config.level_of(difference)))
    level = max((lv for _, lv in kept), key=_STRENGTH.__getitem__, default=config.level)
    shown = "; ".join(d.describe() for d, _ in kept[:SHOWN_IN_MESSAGE])
    more = f" (+{len(kept) - SHOWN_IN_MESSAGE} more)" if len(kept) > SHOWN_IN_MESSAGE else ""
    message = f"{len(kept)} difference(s) from the golden run: {shown}{more}" if kept else ""
    if ignored:
        message += ("; " if message else "") + f"{sum(ignored.values())} ignored by the diff configuration"
    differing = [p for p in pairs if any(d in [k for k, _ in kept] for d in p.differences)]
    return {"id": case["id"], "title": f"differential: {case.get('title', case['id'])}", "area": AREA,
            "topic": TOPIC, "level": level, "profile": case.get("profile", "core"),
            "routes": sorted({d.route for d, _ in kept if d.route}),
            "outcome": (Outcome.FAILED if kept else Outcome.PASSED).value, "message": message, "source": SOURCE,
            "duration_ms": duration_ms,
            "exchanges": [e for p in differing if (e := exchange_json(p.candidate, candidate)) is not None],
            "findings": [finding_json(d, lv) for d, lv in kept],
            DIFF_KEY: [{"step": p.step, "golden": exchange_json(p.golden, golden),
                        "candidate": exchange_json(p.candidate, candidate),
                        "differences": [finding_json(d, config.level_of(d)) for d in p.differences
                                        if config.ignored_by(d) is None]} for p in differing]}


def missing_case_result(case: Mapping[str, Any]) -> dict[str, Any]:
    """A golden case the suite no longer has: nothing to rerun."""
    return {"id": case["id"], "title": f"differential: {case.get('title', case['id'])}", "area": AREA,
            "topic": TOPIC, "level": Level.SHOULD.value, "profile": case.get("profile", "core"), "routes": [],
            "outcome": Outcome.SKIPPED.value, "source": SOURCE, "duration_ms": 0, "exchanges": [], "findings": [],
            "message": "the suite has no such case any more (the recording is older than the case files)"}
