"""FLAKY: a failed case is run again (N times) in the same session; passing on a rerun makes it `flaky`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import Outcome, Result

RERUN_OUTCOMES = frozenset({Outcome.FAILED, Outcome.ERROR})
ATTEMPTS_KEY = "attempts"   # results.json: every attempt of a rerun case, the last one included


def run_with_reruns(run_once: Callable[[int], Result], reruns: int) -> tuple[Result, list[Result]]:
    """(the final result, every attempt in order). `run_once(attempt)` runs attempt 0, 1, ...; a failed or
    errored attempt is run again, up to `reruns` more times; the first pass ends it as `flaky`, and if none
    passes the last attempt's result stands, with its own failure record (the one whose exchanges the result
    keeps)."""
    attempts = [run_once(0)]
    while attempts[-1].outcome in RERUN_OUTCOMES and len(attempts) <= reruns:
        attempts.append(run_once(len(attempts)))
    final = attempts[-1]
    if len(attempts) == 1:
        return final, attempts
    total_ms = sum(attempt.duration_ms for attempt in attempts)
    if final.outcome == Outcome.PASSED:
        first = attempts[0]
        final = _copy(final, outcome=Outcome.FLAKY, duration_ms=total_ms,
                      message=f"flaky: passed on attempt {len(attempts)} of {len(attempts)}; "
                              f"attempt 1 {first.outcome.value}: {first.message}")
    else:
        final = _copy(final, duration_ms=total_ms,
                      message=f"{final.message} (the same in all {len(attempts)} attempts)"
                      if all(a.outcome == final.outcome for a in attempts)
                      else f"{final.message} (attempts: {', '.join(a.outcome.value for a in attempts)})")
    return final, attempts


def _copy(result: Result, **changes: Any) -> Result:
    fields = {name: getattr(result, name) for name in result.__dataclass_fields__}
    fields.update(changes)
    return Result(**fields)


def attempts_json(attempts: list[Result]) -> list[dict[str, Any]]:
    """What results.json keeps of each attempt: outcome, message, duration, its failure record and the
    exchanges (evidence of the earlier failures, which their records index; the last attempt's exchanges
    and record are the result's own)."""
    records = []
    for number, attempt in enumerate(attempts, 1):
        record = {"attempt": number, "outcome": attempt.outcome.value, "message": attempt.message,
                  "duration_ms": attempt.duration_ms}
        if attempt.failure is not None:
            record["failure"] = attempt.failure.to_json()
        if number < len(attempts):
            record["exchanges"] = [exchange.to_json() for exchange in attempt.exchanges]
        records.append(record)
    return records
