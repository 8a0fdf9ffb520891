"""The cheap body generator (conformance/fuzz/generate_bodies.py): valid bodies for every fuzzable route,
the same for a seed in any process, and a clear fallback where it cannot read a schema."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from conformance.fuzz.bridge import FUZZ_PROFILES, fuzzable_routes
from conformance.fuzz.generate_bodies import BodyGenerator, Unsupported, draw_bodies
from conformance.fuzz.positions import input_schema
from conformance.fuzz.strategies import planned_bodies
from conformance.spec import load_spec

SEEDS = range(3)
ROUTE = "/record/new"
PLAN_SCRIPT = ("import json; from conformance.spec import load_spec; from conformance.fuzz.strategies import "
               f"planned_bodies; print(json.dumps(planned_bodies(load_spec(), {ROUTE!r}, 9, 8)))")


def test_every_fuzzable_route_gets_valid_bodies_from_the_generator_itself():
    spec = load_spec()
    drawn = valid = 0
    for route in fuzzable_routes(spec, FUZZ_PROFILES):
        node, resolver = input_schema(spec, route)
        validator = spec.validator(route, "input")
        for seed in SEEDS:
            # Unfiltered: what the walk draws, before the plan's check drops misfits (none raises Unsupported).
            bodies = draw_bodies(node, resolver, lambda body: True, seed, seed, 8, 8)
            assert bodies, route
            drawn += len(bodies)
            valid += sum(validator.is_valid(body) for body in bodies)
            assert all(validator.is_valid(json.loads(text)) for text in planned_bodies(spec, route, seed, 8)), route
    # The check is a safety net, not the generator: most of what it draws is valid as drawn.
    assert valid / drawn > 0.8, (valid, drawn)


def test_a_plan_is_the_same_in_another_process_with_another_hash_seed():
    here = planned_bodies(load_spec(), ROUTE, 9, 8)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", PLAN_SCRIPT], env=env, capture_output=True, text=True, timeout=60,
                           check=True)
    assert tuple(json.loads(other.stdout)) == here
    assert len(here) == 8 and json.loads(here[0]).keys() == {"project"}   # the first: required properties only


def test_a_schema_the_walk_cannot_read_is_refused_not_guessed():
    spec = load_spec()
    _, resolver = input_schema(spec, ROUTE)
    with pytest.raises(Unsupported):
        BodyGenerator({"type": "object", "dependentSchemas": {"a": {}}}, resolver, random.Random(1), 1).body()


def test_bounds_enums_and_patterns_are_kept():
    spec = load_spec()
    _, resolver = input_schema(spec, ROUTE)
    schema = {"type": "object", "required": ["n", "e", "id", "tags"], "properties": {
        "n": {"type": "integer", "minimum": 3, "maximum": 5}, "e": {"enum": ["a", "b"]},
        "id": {"type": "string", "pattern": "^file-[0-9A-Za-z]{24}$"},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 2}, "minItems": 1, "uniqueItems": True}}}
    generator = BodyGenerator(schema, resolver, random.Random(4), 4)
    for _ in range(50):
        body = generator.body()
        assert 3 <= body["n"] <= 5 and body["e"] in ("a", "b") and body["id"].startswith("file-")
        assert body["tags"] and len(set(body["tags"])) == len(body["tags"]) and all(len(t) >= 2 for t in body["tags"])
