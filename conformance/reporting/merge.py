"""Merging the results.json of shards (`dxconform run --shard K/N`) into the document one unsharded run gives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..engine import CheckLedger
from ..gate import Expectation, apply_to_json
from ..gate.known_failures import EXPECTED_KEY
from .results_json import CHECK_KIND, PROFILE_KIND, build_document

STOPPED_KEY = "stopped"   # results.json: the run ended before every case ran (gather.py)
SHARD_KEY = "shard"
_WORST = ("error", "failed", "xpassed", "flaky", "xfailed", "passed", "unsupported", "not-applicable", "skipped")


class MergeError(ValueError):
    """The documents cannot be merged; the message says why in one line."""


def _shards(documents: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]] | None:
    """The shard sections, checked to form one complete split; None if no document is a shard."""
    sections = [d.get(SHARD_KEY) for d in documents]
    if all(s is None for s in sections):
        return None
    if any(s is None for s in sections):
        raise MergeError("some documents are shards of a split run and some are not")
    counts = {s["count"] for s in sections}
    if len(counts) != 1:
        raise MergeError(f"the shards come from splits into different numbers of shards: {sorted(counts)}")
    count = counts.pop()
    indexes = [s["index"] for s in sections]
    duplicated = sorted({i for i in indexes if indexes.count(i) > 1})
    if duplicated:
        raise MergeError(f"shard {duplicated[0]}/{count} is given more than once")
    missing = sorted(set(range(1, count + 1)) - set(indexes))
    if missing:
        raise MergeError(f"shard(s) {', '.join(f'{i}/{count}' for i in missing)} missing: a merge needs all {count}")
    return sections


def _check_results(documents: Sequence[Mapping[str, Any]], sections: list[Mapping[str, Any]] | None
                   ) -> list[dict[str, Any]]:
    checks = [r for d in documents for r in d["results"] if r.get("kind") == CHECK_KIND]
    if sections is not None:
        # The exact way: add the shards' ledgers up, as the controller adds its workers' ledgers.
        ledger = CheckLedger()
        for section in sections:
            ledger.merge(section["ledger"])
        expectations = {r["id"]: Expectation(**r[EXPECTED_KEY]) for r in checks if r.get(EXPECTED_KEY)}
        return [apply_to_json(result.to_json(), expectations) for result in ledger.results()]
    by_id: dict[str, dict[str, Any]] = {}
    for result in checks:   # documents without ledgers: per check id, the worst outcome stands
        known = by_id.get(result["id"])
        if known is None or _WORST.index(result["outcome"]) < _WORST.index(known["outcome"]):
            by_id[result["id"]] = {k: v for k, v in result.items() if k != "kind"}
    return list(by_id.values())


def merge_documents(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One results document from several; a case in two documents is an error (shards do not overlap)."""
    if not documents:
        raise MergeError("nothing to merge")
    sections = _shards(documents)
    cases: dict[str, dict[str, Any]] = {}
    profiles: dict[str, dict[str, Any]] = {}
    for document in documents:
        for result in document["results"]:
            if result.get("kind") == CHECK_KIND:
                continue
            if result.get("kind") == PROFILE_KIND:
                # Every shard probes the same server: per claimed profile, the worst outcome stands.
                known = profiles.get(result["id"])
                if known is None or _WORST.index(result["outcome"]) < _WORST.index(known["outcome"]):
                    profiles[result["id"]] = {k: v for k, v in result.items() if k != "kind"}
                continue
            if result["id"] in cases:
                raise MergeError(f"case {result['id']} is in more than one document (overlapping runs)")
            cases[result["id"]] = {k: v for k, v in result.items() if k != "kind"}
    first = documents[0]
    merged = build_document(
        suite_version=first["suite"]["version"], schemas_sha256=first["suite"]["schemas_sha256"],
        server_url=first["server"]["url"], embedded=all(d["server"]["embedded"] for d in documents),
        started_ms=min(int(d["started"]) for d in documents), finished_ms=max(int(d["finished"]) for d in documents),
        case_results=cases.values(), check_results=_check_results(documents, sections),
        profile_results=profiles.values(), profiles=first.get("profiles"))
    for key, value in first.items():   # other top-level sections of a run (e.g. fuzzing's) carry over
        if key not in merged and key not in (SHARD_KEY, STOPPED_KEY):
            merged[key] = value
    stopped = merged_stop([d[STOPPED_KEY] for d in documents if d.get(STOPPED_KEY)])
    if stopped is not None:
        merged[STOPPED_KEY] = stopped
    return merged


def merged_stop(stops: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The `stopped` section of shards joined: a shard that stopped (deadline, a server that stopped answering)
    leaves the whole run without a verdict; the first shard's cause is told, the cases not run are summed."""
    if not stops:
        return None
    by_reason: dict[str, int] = {}
    for stop in stops:
        for reason, count in stop.get("not_run_by_reason", {}).items():
            by_reason[reason] = by_reason.get(reason, 0) + int(count)
    return {"cause": stops[0]["cause"], "message": stops[0]["message"],
            "not_run": sum(int(stop["not_run"]) for stop in stops), "not_run_by_reason": by_reason}


def suites_differ(documents: Sequence[Mapping[str, Any]]) -> bool:
    return len({(d["suite"]["version"], d["suite"]["schemas_sha256"]) for d in documents}) > 1
