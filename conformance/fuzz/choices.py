"""Where a fuzzed example's choices come from: a seeded random.Random while exploring (recording each choice),
a recorded list while shrinking, hypothesis's draw for the strategies built on it (stateful sequences, tests).

An example is a function of a `Choices`: `example(choices) -> Steps | None` (None: this draw makes no example).
Exploring a route draws a few hundred of them; drawing through hypothesis's engine cost about as much as the
rest of making an example (its bookkeeping per choice and per test case), and exploring does not need it: the
bodies come from the route's plan, drawn once. A choice is recorded as a small int (the index of the option
taken; 1/0 for a flag), so an example can be drawn again from its record, and a record made smaller draws a
simpler example: the plan is sorted shortest body first, the places of a body in the order mutations and edges
list them, so 0 is the simplest option everywhere.

Shrinking (shrink_recorded) lowers one recorded choice at a time, keeping a change while the example still
fails, until no single lowering does: a search over a handful of small ints, where hypothesis's shrinker
would need the example's choices in its own format (not a public API)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

from .drive import BudgetMet

T = TypeVar("T")


class Choices(Protocol):
    """The choices an example makes."""

    def one_of(self, options: Sequence[T]) -> T:
        """One of `options` (not empty)."""

    def flag(self) -> bool:
        """True or False."""


class SeededChoices:
    """Choices drawn from a random.Random, uniformly, each recorded (`record`)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.record: list[int] = []

    def one_of(self, options: Sequence[T]) -> T:
        index = self.rng.randrange(len(options))
        self.record.append(index)
        return options[index]

    def flag(self) -> bool:
        value = self.rng.random() < 0.5
        self.record.append(int(value))
        return value


class RecordedChoices:
    """Choices read back from a record, each made to fit its options (an index past the end takes the last);
    past the record's end every choice is the simplest (0). `record` is what was actually used."""

    def __init__(self, recorded: Sequence[int]):
        self.recorded = list(recorded)
        self.record: list[int] = []

    def _next(self, most: int) -> int:
        position = len(self.record)
        value = min(max(self.recorded[position], 0), most) if position < len(self.recorded) else 0
        self.record.append(value)
        return value

    def one_of(self, options: Sequence[T]) -> T:
        return options[self._next(len(options) - 1)]

    def flag(self) -> bool:
        return bool(self._next(1))


class DrawnChoices:
    """Choices drawn by hypothesis (inside a strategy: `draw` is its draw function)."""

    def __init__(self, draw: Callable[[st.SearchStrategy], Any]):
        self.draw = draw

    def one_of(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(options))

    def flag(self) -> bool:
        return self.draw(st.booleans())


Example = Callable[[Choices], Any]


def as_strategy(example: Example) -> st.SearchStrategy:
    """The examples of `example` as a hypothesis strategy (those it makes: a None draw is rejected)."""

    @st.composite
    def drawn(draw):
        return example(DrawnChoices(draw))
    return drawn().filter(lambda made: made is not None)


def explore_seeded(example: Example, run_seed: int, max_draws: int,
                   on_example: Callable[[Any, list[int]], None]) -> bool:
    """Call `on_example(made, record)` for up to `max_draws` draws of `example` (those that make one): the first
    draw is the simplest (every choice 0), the others from random.Random(run_seed). Stops early when
    `on_example` raises BudgetMet. Whether any draw made an example."""
    rng = random.Random(run_seed)
    made_any = False
    for index in range(max_draws):
        choices = RecordedChoices(()) if index == 0 else SeededChoices(rng)
        made = example(choices)
        if made is None:
            continue
        made_any = True
        try:
            on_example(made, choices.record)
        except BudgetMet:
            break
    return made_any


def shrink_recorded(example: Example, record: Sequence[int], fails: Callable[[Any], bool]) -> list[int]:
    """The smallest record found from `record` (whose example fails) by lowering one choice at a time (to 0,
    to half, by one) while the example drawn from it still fails; `fails` says so, and owns the budget (it
    answers False once it is spent, which ends the search)."""
    best = list(record)
    improved = True
    while improved:
        improved = False
        for position, value in enumerate(best):
            for lower in sorted({0, value // 2, value - 1} - {value}):
                if lower < 0:
                    continue
                choices = RecordedChoices([*best[:position], lower, *best[position + 1:]])
                made = example(choices)
                if made is not None and fails(made):
                    best, improved = choices.record, True
                    break
            if improved:
                break
    return best
