"""Which results of a results.json fail the gate: unexpected MUST failures, and flaky ones when asked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..model import Level, Outcome

# `xfailed` (known failures) and `xpassed` (known failures that passed) never fail the gate.
FAILING = frozenset({Outcome.FAILED.value, Outcome.ERROR.value})


def gate_failures(document: Mapping[str, Any], *, flaky_fails: bool = False,
                  profiles: Iterable[str] | None = None,
                  failing: Iterable[str] = FAILING) -> list[Mapping[str, Any]]:
    """The MUST results (of `profiles`, default all) that fail the gate; flaky ones too with flaky_fails."""
    outcomes = set(failing) | ({Outcome.FLAKY.value} if flaky_fails else set())
    wanted = set(profiles) if profiles is not None else None
    return [r for r in document.get("results", [])
            if r.get("outcome") in outcomes and r.get("level") == Level.MUST.value
            and (wanted is None or r.get("profile") in wanted)]
