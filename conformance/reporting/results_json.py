"""results.json, format `dxconform-results/2` (CONTRACT.md): building, writing, and the exit code it implies."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..model import Level, Outcome
from ..redaction import redactor
from .json_text import write_indented
from .root_causes import root_causes

FORMAT = "dxconform-results/2"
# Documents this version reads: /1 had no `not-applicable` outcome (a check that applied to nothing passed),
# no profile statuses and no profile results.
READABLE_FORMATS = ("dxconform-results/1", FORMAT)
SUMMARY_KEYS = tuple(outcome.value for outcome in Outcome)
# Outcomes that count against the server (an `error` is a case the server kept from finishing).
FAILING_OUTCOMES = frozenset({Outcome.FAILED.value, Outcome.ERROR.value})
CASE_KIND, CHECK_KIND, PROFILE_KIND = "case", "check", "profile"
KINDS = (CASE_KIND, CHECK_KIND, PROFILE_KIND)


def summarize(results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many results ended in each outcome; every outcome's key is present."""
    summary = dict.fromkeys(SUMMARY_KEYS, 0)
    for result in results:
        summary[result["outcome"]] += 1
    return summary


def summarize_by_kind(results: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """{case|check|profile: summary}: the same counts as `summarize`, apart by kind of result."""
    results = list(results)
    return {kind: summarize(r for r in results if r.get("kind", CASE_KIND) == kind) for kind in KINDS}


def _of_kind(result: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    """The result with its `kind`: itself when it says that kind already (a spooled result is not copied:
    a copy would read back its exchanges), else a copy with `kind` set."""
    return result if result.get("kind") == kind else dict(result, kind=kind)


def build_document(*, suite_version: str, schemas_sha256: str, server_url: str, embedded: bool,
                   started_ms: int, finished_ms: int, case_results: Iterable[Mapping[str, Any]],
                   check_results: Iterable[Mapping[str, Any]],
                   profile_results: Iterable[Mapping[str, Any]] = (),
                   profiles: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The whole document: profile results first, then case results (in id order), then one check result per
    (check, route); `profiles` says which profiles the server claims, has (detected) or does not implement."""
    results = [_of_kind(r, PROFILE_KIND) for r in sorted(profile_results, key=lambda r: r["id"])]
    results += [_of_kind(r, CASE_KIND) for r in sorted(case_results, key=lambda r: r["id"])]
    results += [_of_kind(r, CHECK_KIND) for r in sorted(check_results, key=lambda r: r["id"])]
    document = {"format": FORMAT,
                "suite": {"version": suite_version, "schemas_sha256": schemas_sha256},
                "server": {"url": server_url, "embedded": embedded},
                "started": started_ms, "finished": finished_ms,
                "summary": summarize(results),
                "summary_by_kind": summarize_by_kind(results),
                # The failed and errored results grouped by cause, largest first (root_causes.py).
                "root_causes": [cause.to_json() for cause in root_causes(results, finished_ms)],
                "results": results}
    if profiles is not None:
        document["profiles"] = dict(profiles)
    return document


def write_document(path: str | Path, document: Mapping[str, Any], secrets: Iterable[str] = ()) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Scrubbed as data: every string of the document (keys included), in every encoded form of every token
    # (a scrubbed copy, no JSON round trip: memory); indented by one space, so that it reads well.
    # A lone surrogate (from an answer's "\udc00") is written as its JSON escape, never a crash (encodable.py).
    write_indented(path, document, redactor(secrets))
    return path


def read_document(path: str | Path) -> dict[str, Any]:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("format") not in READABLE_FORMATS:
        raise ValueError(f"{path} is not a {FORMAT} document")
    return document


def unexpected_must_failures(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The results that make a run fail: failed or errored at level MUST. (Expected failures, once an
    expectations file exists, end as `xfailed` and so never appear here.)"""
    return [r for r in document["results"] if r["outcome"] in FAILING_OUTCOMES and r["level"] == Level.MUST.value]


def exit_code(document: Mapping[str, Any]) -> int:
    """CONTRACT.md: 0 when no unexpected MUST failure, 1 when at least one."""
    return 1 if unexpected_must_failures(document) else 0
