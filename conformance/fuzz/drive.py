"""Hypothesis as the driver: explore (generate, no shrinking, same seed -> same examples) and shrink (find
the smallest example that still breaks one rule). No example database: runs never depend on earlier ones."""

from __future__ import annotations

import unittest
import warnings
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning, Unsatisfiable

from ..cases.generate import global_constants_only


def _settings(max_examples: int, phases: tuple[Phase, ...]) -> settings:
    return settings(max_examples=max(max_examples, 1), database=None, deadline=None, derandomize=False,
                    phases=phases, suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                    verbosity=Verbosity.quiet, print_blob=False)


def _skip_database_key(test: Callable[[], None]) -> None:
    """Give a test the key under which hypothesis would keep its examples. Without a database the key is never
    used, but hypothesis works it out on every run by reading and tokenizing the test's source (~0.7 ms, and a
    fuzzing run makes over a hundred runs). Hypothesis reads the attribute when it is there (its stateful
    tests set it); should a release stop reading it, runs are a little slower, nothing else."""
    test._hypothesis_internal_database_key = b"dxconform-fuzz"  # type: ignore[attr-defined]


class BudgetMet(unittest.SkipTest):
    """Raised by an example callback once the budget is met: the way to end a hypothesis run early.

    A skip exception (unittest's): hypothesis re-raises those at once, where any other exception is a test
    failure that it would replay and describe (pretty-printing the example, reading the test's source),
    which took a tenth of a fuzzing run's time."""


def explore(strategy: st.SearchStrategy, run_seed: int, max_examples: int,
            on_example: Callable[[Any], None]) -> str | None:
    """Call `on_example` on up to `max_examples` generated examples; a note if none could be made."""

    @seed(run_seed)
    @_settings(max_examples, (Phase.generate,))
    @given(strategy)
    def generated(example: Any) -> None:
        on_example(example)

    _skip_database_key(generated)
    try:
        with warnings.catch_warnings(), global_constants_only():
            # A warning about a large example's repr says nothing about the server.
            warnings.simplefilter("ignore", HypothesisWarning)
            generated()
    except BudgetMet:
        return None
    except Unsatisfiable:
        return NO_EXAMPLE
    return None


NO_EXAMPLE = "no example satisfying the schema could be generated"


class _Reproduced(Exception):
    pass


def shrink(strategy: st.SearchStrategy, run_seed: int, max_examples: int,
           fails: Callable[[Any], bool]) -> None:
    """Regenerate with the same seed until `fails` holds, then let hypothesis shrink. The caller keeps the
    smallest failing example `fails` saw: hypothesis's own final replay may be cut short by the caller's
    budget (its strategy stops producing examples), which hypothesis reports as an unreliable failure."""

    @seed(run_seed)
    @_settings(max_examples, (Phase.generate, Phase.shrink))
    @given(strategy)
    def failing(example: Any) -> None:
        if fails(example):
            raise _Reproduced()

    _skip_database_key(failing)
    try:
        with warnings.catch_warnings(), global_constants_only():
            warnings.simplefilter("ignore", HypothesisWarning)
            failing()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # _Reproduced, Unsatisfiable, or Flaky after the budget ran out: all expected
        pass
