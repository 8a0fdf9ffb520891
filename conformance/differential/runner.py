"""A differential run: the golden recording's cases rerun against a candidate, compared, turned into results."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..cases.model import CaseSuite
from ..reporting.results_json import build_document
from ..resources import schemas_dir
from ..spec.schemas import tree_sha256
from .compare import Comparer
from .config import DiffConfig
from .golden import build_golden, case_record
from .recorder import run_cases, select_cases
from .results import case_result, missing_case_result
from .volatile import Placeholders


@dataclass
class DiffOutcome:
    document: dict[str, Any]                 # results.json of the diff
    candidate_golden: dict[str, Any]         # the candidate's run as a recording (for --save)
    differences: int = 0
    ignored: int = 0
    lines: list[str] = field(default_factory=list)   # one line per differing case, for the terminal


def diff_run(golden: Mapping[str, Any], suite: CaseSuite, server: str, tokens: Mapping[str, str],
             config: DiffConfig, *, embedded: bool, project: str | None = None, timeout: float = 30.0,
             cases_filter: Iterable[str] = (), progress: Callable | None = None) -> DiffOutcome:
    started = int(time.time() * 1000)
    by_id = {case.uid: case for case in suite.cases}
    wanted = {case.uid for case in select_cases(suite, cases_filter)} if cases_filter else None
    recorded = [c for c in golden["cases"] if wanted is None or c["id"] in wanted]
    to_run = [by_id[c["id"]] for c in recorded if c["id"] in by_id]
    run = run_cases(server, tokens, suite, to_run, project=project, timeout=timeout, progress=progress)
    golden_marks = Placeholders.from_json(golden["placeholders"])
    candidate_marks = Placeholders(run.run_prefix, server)
    comparer = Comparer(golden_marks, candidate_marks)
    if golden.get("work_project"):
        comparer.pair_ids(golden_marks.reveal(golden["work_project"]), run.work_project)
    results_by_id = {result.id: result for result in run.results}
    outcome_results, candidate_cases, lines = [], [], []
    differences = ignored = 0
    for case in recorded:
        result = results_by_id.get(case["id"])
        if result is None:
            outcome_results.append(missing_case_result(case))
            continue
        mine = case_record(result, candidate_marks)
        candidate_cases.append(mine)
        pairs = comparer.compare_case(case["id"], case["steps"], mine["steps"])
        record = case_result(case, pairs, config, golden_marks, candidate_marks, duration_ms=result.duration_ms)
        outcome_results.append(record)
        found = sum(len(p.differences) for p in pairs)
        differences += len(record["findings"])
        ignored += found - len(record["findings"])
        if record["findings"]:
            lines.append(f"{record['id']}: {record['message']}")
    document = build_document(suite_version=__version__, schemas_sha256=tree_sha256(schemas_dir()),
                              server_url=server, embedded=embedded, started_ms=started,
                              finished_ms=int(time.time() * 1000), case_results=outcome_results, check_results=[])
    document["golden"] = {"format": golden["format"], "recorded": golden["recorded"],
                          "suite": golden["suite"], "embedded": golden["server"]["embedded"]}
    candidate = build_golden(suite_version=__version__, schemas_sha256=tree_sha256(schemas_dir()),
                             embedded=embedded, recorded_ms=int(time.time() * 1000), users=tokens,
                             work_project=run.work_project, placeholders=candidate_marks, cases=candidate_cases)
    return DiffOutcome(document, candidate, differences, ignored, lines)
