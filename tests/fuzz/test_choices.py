"""Seeded choices: recorded as drawn, drawn again from the record, the first draw the simplest, the same under a
seed, and a shrink that lowers recorded choices to the smallest failing example."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.fuzz.choices import (
    RecordedChoices,
    SeededChoices,
    as_strategy,
    explore_seeded,
    shrink_recorded,
)
from conformance.fuzz.drive import BudgetMet

PLAN = ("{}", '{"a": 1}', '{"a": 1, "b": [1, 2]}', '{"a": 1, "b": [1, 2], "c": "long text"}')
NUMBERS = tuple(range(-5, 101))


def example(choices):
    """A toy example of the fuzzer's shape: a planned body, a flag, a number; odd numbers make none."""
    body = choices.one_of(PLAN)
    edge = choices.flag()
    number = choices.one_of(NUMBERS)
    return None if number % 2 else (body, edge, number)


def test_a_seeded_draw_is_drawn_again_from_its_record():
    rng = random.Random(4)
    for _ in range(50):
        seeded = SeededChoices(rng)
        made = (seeded.one_of(PLAN), seeded.flag(), seeded.one_of(NUMBERS))
        again = RecordedChoices(seeded.record)
        assert (again.one_of(PLAN), again.flag(), again.one_of(NUMBERS)) == made
        assert again.record == seeded.record


def test_a_record_too_large_or_too_short_still_draws_options():
    replayed = RecordedChoices([99, 7, 10**9])
    assert replayed.one_of(PLAN) == PLAN[-1] and replayed.flag() is True and replayed.one_of(NUMBERS) == 100
    assert replayed.record == [3, 1, 105]
    empty = RecordedChoices([])
    assert (empty.one_of(PLAN), empty.flag(), empty.one_of(NUMBERS)) == (PLAN[0], False, -5)


def test_explore_hands_on_what_the_seed_draws_with_its_record_and_stops_at_the_budget():
    def drawn(seed: int) -> list:
        seen: list = []

        def on_example(made, record):
            assert example(RecordedChoices(record)) == made   # the record draws it again
            seen.append(made)
            if len(seen) >= 20:
                raise BudgetMet()
        assert explore_seeded(example, seed, 500, on_example)
        return seen

    first = drawn(1)
    assert len(first) == 20 and all(made[2] % 2 == 0 for made in first)   # None draws never handed on
    assert drawn(1) == first and drawn(2) != first


def test_the_first_draw_takes_every_first_option():
    seen: list = []
    explore_seeded(lambda choices: (choices.one_of(PLAN), choices.flag(), choices.one_of("xyz")), 5, 1,
                   lambda made, record: seen.append((made, record)))
    assert seen == [((PLAN[0], False, "x"), [0, 0, 0])]


def test_an_example_that_never_makes_one_says_so():
    assert explore_seeded(lambda choices: None, 1, 30, lambda made, record: None) is False


def test_shrink_lowers_each_choice_to_the_smallest_that_still_fails():
    def shaped(choices):
        return choices.one_of(PLAN), choices.flag(), choices.one_of(NUMBERS)

    def fails(made) -> bool:
        body, edge, number = made
        return len(body) > 8 and number >= 40   # fails on a body with "b" and a number of 40 or more

    rng = random.Random(11)
    while True:
        seeded = SeededChoices(rng)
        made = shaped(seeded)
        if fails(made) and made[0] == PLAN[3] and made[1] and made[2] > 60:
            break
    smallest = shrink_recorded(shaped, seeded.record, fails)
    assert shaped(RecordedChoices(smallest)) == (PLAN[2], False, 40)


def test_shrink_follows_an_example_whose_number_of_choices_changes():
    """A lower choice may make an example draw fewer or other choices (a smaller body has fewer places)."""
    def places(choices):
        body = choices.one_of(PLAN)
        keys = [key for key in ("a", "b", "c") if f'"{key}"' in body]
        return body, [choices.one_of(("ok", "bad")) for _ in keys]

    def fails(made) -> bool:
        return "bad" in made[1]

    smallest = shrink_recorded(places, [3, 1, 1, 1], fails)   # the longest body, every place bad
    assert places(RecordedChoices(smallest)) == (PLAN[1], ["bad"]) and smallest == [1, 1]


def test_shrink_stops_when_fails_says_the_budget_is_spent():
    calls = []

    def fails(made) -> bool:
        calls.append(made)
        return False   # what a spent budget answers

    record = [3, 1, 90]
    assert shrink_recorded(example, record, fails) == record
    assert len(calls) <= 3 * len(record)


@settings(max_examples=20, deadline=None, database=None)
@given(st.data())
def test_as_strategy_draws_examples_through_hypothesis_and_rejects_none(data):
    made = data.draw(as_strategy(example))
    assert made is not None and made[0] in PLAN and made[2] % 2 == 0
