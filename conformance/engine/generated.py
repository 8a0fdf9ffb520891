"""Generated cases: one case with `generate:` runs once per hypothesis example; a failure is shrunk to the
smallest failing example, whose run becomes the case's Result."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import warnings
from typing import Any

from ..cases.generate import global_constants_only, values_strategy
from ..cases.model import CaseSpec, CaseSuite
from ..model import Outcome, Result
from .session import RunSession

FAILING = (Outcome.FAILED, Outcome.ERROR)
# A result that says "this case cannot run here" ends the case at once: other values would not change it.
STOPPING = (Outcome.SKIPPED, Outcome.UNSUPPORTED)
# Shrinking a failure reruns the whole case: bounded by runs and by time, the smallest failure so far wins.
SHRINK_RUNS = 60
SHRINK_SECONDS = 60.0
SHOWN_VALUE_CHARS = 300


class _Failed(Exception):
    """Raised inside the hypothesis test: this example fails the case (hypothesis then shrinks)."""


class _Stop(Exception):
    """Raised inside the hypothesis test: the case cannot run on this server (skipped, unsupported)."""


def case_seed(run_seed: int, uid: str) -> int:
    """The hypothesis seed of one generated case: the run's seed and the case's id, nothing else."""
    return int.from_bytes(hashlib.sha256(f"{run_seed}:{uid}".encode()).digest()[:8], "big")


def _key(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def _shown(values: dict[str, Any]) -> str:
    text = json.dumps(values, ensure_ascii=False)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + f"... [{len(text)} chars]"


def run_generated(session: RunSession, case: CaseSpec, suite: CaseSuite, run_one) -> Result:
    """Run `case` (with `generate`) on up to `generate.examples` examples through `run_one(session, case,
    suite)`; the Result of the smallest failing example, or of the last passing one."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

    generate = case.generate
    assert generate is not None
    started = time.monotonic()
    runs: dict[str, tuple[dict[str, Any], Result]] = {}
    order: list[str] = []
    failing: list[str] = []
    explored: list[int] = [0]   # runs before the first failure (the rest are shrinking)

    def attempt(values: dict[str, Any]) -> Result | None:
        key = _key(values)
        if key not in runs:
            shrinking = bool(failing)
            if shrinking and (len(runs) - explored[0] >= SHRINK_RUNS or
                              time.monotonic() - started > SHRINK_SECONDS):
                return None   # shrink budget spent: keep the smallest failure found so far
            concrete = dataclasses.replace(case, generate=None, values={**case.values, **values})
            runs[key] = (values, run_one(session, concrete, suite))
            order.append(key)
            if not shrinking:
                explored[0] = len(runs)
        result = runs[key][1]
        if result.outcome in FAILING and key not in failing:
            failing.append(key)
        return result

    @seed(case_seed(session.config.seed, case.uid))
    @settings(max_examples=generate.examples, database=None, deadline=None, derandomize=False,
              phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False, verbosity=Verbosity.quiet, print_blob=False)
    @given(values_strategy(generate))
    def example(values: dict[str, Any]) -> None:
        result = attempt(values)
        if result is None:
            return
        if result.outcome in STOPPING:
            raise _Stop()
        if result.outcome in FAILING:
            raise _Failed()

    try:
        with warnings.catch_warnings(), global_constants_only():
            warnings.simplefilter("ignore")
            example()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - _Failed, _Stop, or hypothesis's Flaky once the shrink budget ran out
        pass
    return _summary(case, session.config.seed, runs, order, failing, explored[0], started)


def _summary(case: CaseSpec, run_seed: int, runs: dict[str, tuple[dict[str, Any], Result]], order: list[str],
             failing: list[str], explored: int, started: float) -> Result:
    if not order:
        return Result(id=case.uid, title=case.title, area=case.area, topic=case.topic, level=case.level,
                      profile=case.profile, outcome=Outcome.ERROR, source=case.source, routes=list(case.routes),
                      message="no example could be generated from `generate`")
    if failing:
        smallest = min(failing, key=lambda k: (len(k), k))
        values, result = runs[smallest]
        note = (f"generated values {_shown(values)}: the smallest failing example of {len(runs)} run(s) "
                f"({len(failing)} failed; found after {explored}); seed {run_seed}")
    else:
        values, result = runs[order[-1]]
        if result.outcome in STOPPING:
            return result
        note = f"{len(runs)} generated example(s) passed; seed {run_seed}; last values {_shown(values)}"
    result = dataclasses.replace(result, message="; ".join(filter(None, [result.message, note])))
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result
