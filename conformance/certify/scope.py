"""What a certification covered: the suite's digest, its case counts, the run's seed and fuzz budget, full or partial."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SCOPE_FULL, SCOPE_PARTIAL = "full", "partial"
CASE_KIND = "case"
# A fuzzing result is written as kind "case" with its own `fuzz` record; it is no case of the suite.
FUZZ_KEY = "fuzz"
SHORT_DIGEST = 12


def suite_files(cases_root: Path, schemas_root: Path) -> list[tuple[str, Path]]:
    """(label, path) of every file the suite is made of: the case files the loader reads and the schema
    documents (every *.json of schemas/, as `tree_sha256` takes them), sorted by label."""
    from ..cases.loader import case_files

    files = [(f"cases/{path.relative_to(cases_root).as_posix()}", path) for path in case_files([cases_root])]
    files += [(f"schemas/{path.relative_to(schemas_root).as_posix()}", path) for path in schemas_root.rglob("*.json")]
    return sorted(files)


def suite_sha256(cases_root: Path, schemas_root: Path) -> str:
    """The suite digest: SHA-256 over the sorted labels and bytes of the suite's files."""
    digest = hashlib.sha256()
    for label, path in suite_files(cases_root, schemas_root):
        digest.update(label.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def suite_case_ids(cases_root: Path) -> list[str]:
    """The id of every case of the suite under `cases_root`, for_each items expanded (the ids results.json has)."""
    from ..cases import load_suite
    from ..checks import CHECKS

    return [case.uid for case in load_suite([cases_root], base=cases_root.parent, known_checks=CHECKS).cases]


def case_results(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The results of the suite's cases in a results.json document (not checks, not fuzzing)."""
    return [r for r in results.get("results") or [] if isinstance(r, Mapping)
            and r.get("kind") == CASE_KIND and FUZZ_KEY not in r]


def fuzz_budget(results: Mapping[str, Any]) -> int:
    """Generated examples per route and mode the run fuzzed with (0: no fuzzing)."""
    fuzz = results.get(FUZZ_KEY)
    examples = fuzz.get("examples") if isinstance(fuzz, Mapping) else 0
    return examples if isinstance(examples, int) else 0


def scope_record(results: Mapping[str, Any], *, narrowed_by: Iterable[str], suite_ids: Iterable[str],
                 digest: str) -> dict[str, Any]:
    """suite.json's account of what the run covered: full, or partial with what narrowed it."""
    narrowed = list(narrowed_by)
    return {"scope": SCOPE_PARTIAL if narrowed else SCOPE_FULL, "narrowed_by": narrowed,
            "suite_sha256": digest, "cases_selected": len(case_results(results)),
            "cases_in_suite": len(set(suite_ids)), "seed": results.get("seed"),
            "fuzz_examples": fuzz_budget(results)}


def missing_from_run(results: Mapping[str, Any], suite_ids: Iterable[str]) -> list[str]:
    """Ids of the suite's cases that have no result in the run (none, on a complete full run)."""
    ran = {r.get("id") for r in case_results(results)}
    return sorted(set(suite_ids) - ran)


def scope_problems(suite: Mapping[str, Any], results: Mapping[str, Any]) -> list[str]:
    """Where suite.json's account of the scope is malformed or disagrees with the results in the bundle."""
    problems = []
    if suite.get("scope") not in (SCOPE_FULL, SCOPE_PARTIAL):
        problems.append(f"suite.json: scope {suite.get('scope')!r}, expected {SCOPE_FULL!r} or {SCOPE_PARTIAL!r}")
    narrowed = suite.get("narrowed_by")
    if not isinstance(narrowed, list):
        problems.append("suite.json: narrowed_by is not a list")
    elif suite.get("scope") == SCOPE_FULL and narrowed:
        problems.append(f"suite.json: scope full, yet narrowed by {' '.join(map(str, narrowed))}")
    for key in ("cases_selected", "cases_in_suite"):
        if not isinstance(suite.get(key), int) or isinstance(suite.get(key), bool) or suite[key] < 0:
            problems.append(f"suite.json: {key} {suite.get(key)!r} is not a count")
    digest = suite.get("suite_sha256")
    if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        problems.append(f"suite.json: suite_sha256 {digest!r} is not a SHA-256")
    ran = len(case_results(results))
    if suite.get("cases_selected") != ran:
        problems.append(f"suite.json: records {suite.get('cases_selected')!r} cases selected, results.json holds "
                        f"{ran} case results")
    if suite.get("seed") != results.get("seed"):
        problems.append(f"suite.json: seed {suite.get('seed')!r} differs from results.json's {results.get('seed')!r}")
    if suite.get("fuzz_examples") != fuzz_budget(results):
        problems.append(f"suite.json: fuzz_examples {suite.get('fuzz_examples')!r} differs from results.json's "
                        f"{fuzz_budget(results)}")
    return problems


def short_digest(suite: Mapping[str, Any]) -> str:
    digest = suite.get("suite_sha256")
    return digest[:SHORT_DIGEST] if isinstance(digest, str) and digest else "unknown"
