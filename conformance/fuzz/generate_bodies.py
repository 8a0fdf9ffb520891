"""Schema-valid request bodies drawn cheaply: a seeded random.Random walks a route's input schema, with
hypothesis's from_regex only for strings that must match a pattern (no regex engine of our own).

Used for the plan of bodies of each route (strategies.planned_bodies). Hypothesis is not needed there: the
plan is drawn once, never shrunk, and every body is checked against the route's input schema. A body that
fails the check is dropped; a schema this walk cannot read (a keyword it does not know, a reference cycle)
raises Unsupported, and the caller falls back to schemathesis's body strategy for that route."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import jsonschema_rs
from hypothesis import strategies as st
from referencing.jsonschema import DRAFT202012

from .config import derived_seed
from .drive import BudgetMet, explore

# Keywords the walk reads (constraints) or may ignore (annotations); any other keyword makes it give up.
READ = frozenset({"$ref", "type", "properties", "required", "additionalProperties", "patternProperties",
                  "propertyNames", "minProperties", "maxProperties", "items", "minItems", "maxItems", "uniqueItems",
                  "anyOf", "oneOf", "allOf", "not", "if", "then", "else", "const", "enum", "pattern", "minLength",
                  "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
ANNOTATIONS = frozenset({"$id", "$schema", "$defs", "$comment", "description", "title", "default", "examples",
                         "deprecated", "readOnly", "writeOnly"})
# Strings drawn per pattern (by hypothesis, once per pattern and run seed); bodies pick among them.
PATTERN_STRINGS = 16
MAX_DEPTH = 40
# Deeper than this, objects get their required properties only and lists their fewest items: recursive
# schemas (find queries) end.
SHALLOW = 6
# Optional properties of an object: each present with this chance, halved at each level of nesting (small
# bodies have few places, so a mutation or an edge value lands on each place more often); the first body of a
# plan has none.
OPTIONAL_CHANCE = 0.3
LONGEST_LIST = 3
# The chance of the first of an enum's values or of anyOf/oneOf's branches (else any, the first included).
FIRST_CHOICE = 0.5
ODD_CHANCE = 0.1
# Characters of free strings: mostly plain, some punctuation, some beyond ASCII (no NUL: see bridge.py).
PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ODD = " -_./:@#%&*+=?!'\"\\<>{}[]()~\t\n\u00e9\u00df\u4e2d\u0416\U0001f600\u200b\x7f"
# Huge integers are edge values (edges.py), not plan material.
INTEGERS = (0, 1, -1, 2, 7, 100, 2**31 - 1, -(2**31))
NUMBERS = (0.0, 0.5, -1.25, 1e10, 3.0, -0.001)
FREE_KEYS = ("a", "fuzz", "key", "x-y", "\u00e9t\u00e9", "1")


@lru_cache(maxsize=256)
def _condition(schema_text: str) -> Any:
    """A validator of an `if` schema (one without references), made once."""
    return jsonschema_rs.Draft202012Validator(json.loads(schema_text))


class Unsupported(ValueError):
    """The schema uses something this walk does not read: the caller draws the route's bodies another way."""


@lru_cache(maxsize=512)
def pattern_strings(pattern: str, seed: int) -> tuple[str, ...]:
    """Up to PATTERN_STRINGS distinct strings matching `pattern`, drawn by hypothesis's from_regex under
    `seed` (one per example: hypothesis's first example is its simplest, the later ones vary)."""
    drawn: dict[str, None] = {}

    def keep(value: str) -> None:
        if len(drawn) >= PATTERN_STRINGS:
            raise BudgetMet()
        drawn[value] = None

    explore(st.from_regex(pattern), derived_seed(seed, "pattern", pattern), PATTERN_STRINGS * 2, keep)
    if not drawn:
        raise Unsupported(f"no string matching {pattern!r} could be drawn")
    return tuple(drawn)


class BodyGenerator:
    """Draws values for one schema (`node` with its `resolver`) from `rng`; `pattern_seed` seeds the strings
    drawn for patterns."""

    def __init__(self, node: dict, resolver: Any, rng: random.Random, pattern_seed: int):
        self.node = node
        self.resolver = resolver
        self.rng = rng
        self.pattern_seed = pattern_seed
        self.minimal = False

    def body(self, minimal: bool = False) -> Any:
        """One value of the schema; `minimal`: no optional property anywhere (the plan's first body)."""
        self.minimal = minimal
        return self._value([(self.node, self.resolver)], 0)

    # -- gathering every schema that applies at one place ----------------------------------------------------
    def _expand(self, parts: list[tuple[dict, Any]], depth: int) -> list[tuple[dict, Any]]:
        """The schemas of `parts` with $ref and allOf followed (each applies), one anyOf/oneOf branch drawn."""
        out: list[tuple[dict, Any]] = []
        pending = list(parts)
        while pending:
            node, resolver = pending.pop(0)
            if not isinstance(node, dict):
                if node is False:
                    raise Unsupported("false schema")
                continue
            unknown = [k for k in node if k not in READ and k not in ANNOTATIONS and not k.startswith("x-")]
            if unknown:
                raise Unsupported(f"keywords {unknown}")
            if "$id" in node and depth:
                resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
            if len(out) + len(pending) > 64:
                raise Unsupported("schema too tangled")
            out.append((node, resolver))
            if "$ref" in node:
                resolved = resolver.lookup(node["$ref"])
                pending.append((resolved.contents, resolved.resolver))
            pending.extend((part, resolver) for part in node.get("allOf", ()))
            for keyword in ("anyOf", "oneOf"):
                if node.get(keyword):
                    branches = node[keyword]
                    branch = branches[0] if self.rng.random() < FIRST_CHOICE else self.rng.choice(branches)
                    pending.append((branch, resolver))
        return out

    # -- one value --------------------------------------------------------------------------------------------
    def _value(self, parts: list[tuple[dict, Any]], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise Unsupported("nested too deep")
        nodes = self._expand(parts, depth)
        for node, _ in nodes:
            if "const" in node:
                return node["const"]
        enums = [node["enum"] for node, _ in nodes if isinstance(node.get("enum"), list) and node["enum"]]
        if enums:   # the first value half the time: schemas list the usual one first (hypothesis leans so too)
            return enums[0][0] if self.rng.random() < FIRST_CHOICE else self.rng.choice(enums[0])
        kind = self._type(nodes)
        maker: Callable[[list, int], Any] = getattr(self, f"_{kind}")
        return maker(nodes, depth)

    def _type(self, nodes: list[tuple[dict, Any]]) -> str:
        allowed: set[str] | None = None
        for node, _ in nodes:
            if "type" in node:
                declared = node["type"] if isinstance(node["type"], list) else [node["type"]]
                named = set(declared) | ({"integer"} if "number" in declared else set())
                allowed = named if allowed is None else allowed & named
        if allowed is None:   # no type: what the other keywords speak of, or any JSON
            if any(k in node for node, _ in nodes for k in ("properties", "required", "additionalProperties",
                                                            "patternProperties", "propertyNames")):
                return "object"
            if any(k in node for node, _ in nodes for k in ("items", "minItems")):
                return "array"
            if any(k in node for node, _ in nodes for k in ("pattern", "minLength", "maxLength")):
                return "string"
            return "free"
        if not allowed:
            raise Unsupported("no type is allowed")
        # null and the free forms are rarer than the one concrete type a field usually has.
        options = sorted(allowed)
        if len(options) > 1 and "null" in options and self.rng.random() < 0.75:
            options.remove("null")
        return self.rng.choice(options)

    @staticmethod
    def _bound(nodes: list[tuple[dict, Any]], keyword: str, pick: Callable) -> Any:
        values = [node[keyword] for node, _ in nodes if isinstance(node.get(keyword), int | float)]
        return pick(values) if values else None

    def _null(self, nodes, depth) -> None:
        return None

    def _boolean(self, nodes, depth) -> bool:
        return self.rng.random() < 0.5

    def _integer(self, nodes, depth) -> int:
        low, high = self._number_range(nodes)
        choices = [n for n in INTEGERS if (low is None or n >= low) and (high is None or n <= high)]
        bounds = [int(b) for b in (low, high) if b is not None]
        lo = low if low is not None else -1000
        hi = high if high is not None else 1000
        if lo <= hi and self.rng.random() < 0.5:
            return self.rng.randint(int(lo), int(hi))
        return self.rng.choice(choices + bounds or [int(lo)])

    def _number(self, nodes, depth) -> float | int:
        if self.rng.random() < 0.5:
            return self._integer(nodes, depth)
        low, high = self._number_range(nodes)
        choices = [n for n in NUMBERS if (low is None or n >= low) and (high is None or n <= high)]
        return self.rng.choice(choices) if choices else self._integer(nodes, depth)

    def _number_range(self, nodes) -> tuple[float | None, float | None]:
        low = self._bound(nodes, "minimum", max)
        exclusive_low = self._bound(nodes, "exclusiveMinimum", max)
        if exclusive_low is not None:
            low = max(low, exclusive_low + 1) if low is not None else exclusive_low + 1
        high = self._bound(nodes, "maximum", min)
        exclusive_high = self._bound(nodes, "exclusiveMaximum", min)
        if exclusive_high is not None:
            high = min(high, exclusive_high - 1) if high is not None else exclusive_high - 1
        return low, high

    def _string(self, nodes, depth) -> str:
        patterns = [node["pattern"] for node, _ in nodes if isinstance(node.get("pattern"), str)]
        shortest = int(self._bound(nodes, "minLength", max) or 0)
        longest = self._bound(nodes, "maxLength", min)
        if patterns:   # strings drawn for one of the patterns that match all of them (the check drops misfits)
            fitting = [text for pattern in patterns for text in pattern_strings(pattern, self.pattern_seed)
                       if all(re.search(other, text) for other in patterns)]
            if not fitting:
                raise Unsupported(f"no string drawn matches all of {patterns}")
            return self.rng.choice(fitting)
        length = self.rng.choice((0, 1, 3, 8, 20))
        length = max(length, shortest)
        if longest is not None:
            length = min(length, int(longest))
        alphabet = ODD if self.rng.random() < ODD_CHANCE else PLAIN
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def _array(self, nodes, depth) -> list:
        shortest = int(self._bound(nodes, "minItems", max) or 0)
        longest = self._bound(nodes, "maxItems", min)
        size = shortest if self.minimal or depth > SHALLOW else self.rng.randint(shortest, max(shortest, LONGEST_LIST))
        if longest is not None:
            size = min(size, int(longest))
        items = [(node["items"], resolver) for node, resolver in nodes if isinstance(node.get("items"), dict)]
        unique = any(node.get("uniqueItems") for node, _ in nodes)
        out: list = []
        for _ in range(size * 3 if unique else size):
            item = self._value(items, depth + 1) if items else self._free(nodes, depth + 1)
            if not unique or item not in out:
                out.append(item)
            if len(out) >= size:
                break
        return out

    def _object(self, nodes, depth) -> dict:
        properties: dict[str, list] = {}
        required: set[str] = set()
        maps: list[tuple[Any, Any]] = []       # (schema of other values, resolver): additionalProperties
        key_patterns: list[tuple[str, Any, Any]] = []
        names: list[tuple[dict, Any]] = []
        declared_any = False
        for node, resolver in nodes:
            for key, sub in (node.get("properties") or {}).items():
                properties.setdefault(key, []).append((sub, resolver))
                declared_any = True
            required.update(k for k in node.get("required", ()) if isinstance(k, str))
            if isinstance(node.get("additionalProperties"), dict):
                maps.append((node["additionalProperties"], resolver))
            for pattern, sub in (node.get("patternProperties") or {}).items():
                key_patterns.append((pattern, sub, resolver))
            if isinstance(node.get("propertyNames"), dict):
                names.append((node["propertyNames"], resolver))
        out: dict[str, Any] = {}
        chance = 0.0 if self.minimal or depth > SHALLOW else OPTIONAL_CHANCE / 2 ** depth
        for key in sorted(properties):
            if key in required or self.rng.random() < chance:
                out[key] = self._value(properties[key], depth + 1)
        for key in sorted(required - set(out)):   # required but not declared: any value
            out[key] = self._free(nodes, depth + 1)
        least = int(self._bound(nodes, "minProperties", max) or 0)
        extra = least if self.minimal or depth > SHALLOW else self.rng.randint(least, max(least, 2))
        if declared_any and not maps and not key_patterns:
            extra = 0   # an object with declared properties takes no others (bridge.closed_for_generation)
        for _ in range(max(extra - len(out), 0) if declared_any else extra):
            if key_patterns:
                pattern, sub, resolver = self.rng.choice(key_patterns)
                key = self.rng.choice(pattern_strings(pattern, self.pattern_seed))
                out.setdefault(key, self._value([(sub, resolver)], depth + 1))
                continue
            key = self._value(names, depth + 1) if names else self.rng.choice(FREE_KEYS)
            if not isinstance(key, str):
                raise Unsupported("property names that are not strings")
            out.setdefault(key, self._value(maps, depth + 1) if maps else self._free(nodes, depth + 1))
        for node, resolver in nodes:
            if isinstance(node.get("if"), dict):
                self._conditional(node, resolver, out, properties, depth)
        return out

    def _conditional(self, node: dict, resolver: Any, out: dict, properties: dict[str, list], depth: int) -> None:
        """if/then/else on an object: the branch that applies to `out` redraws the properties it constrains
        (and adds those it requires). An `if` that refers elsewhere is left to the caller's check."""
        condition = node["if"]
        if "$ref" in json.dumps(condition):
            return
        branch = node.get("then") if _condition(json.dumps(condition, sort_keys=True)).is_valid(out) \
            else node.get("else")
        if not isinstance(branch, dict):
            return
        constrained: dict[str, list] = {}
        required: set[str] = set()
        for part, part_resolver in self._expand([(branch, resolver)], depth):
            for key, sub in (part.get("properties") or {}).items():
                constrained.setdefault(key, []).append((sub, part_resolver))
            required.update(k for k in part.get("required", ()) if isinstance(k, str))
        for key in sorted(constrained):
            if key in out or key in required:
                out[key] = self._value(properties.get(key, []) + constrained[key], depth + 1)

    def _free(self, nodes, depth) -> Any:
        """Any JSON value, small and shallow (the deep ones are edge values: edges.py)."""
        kinds = ("string", "integer", "boolean", "null", "number") if depth >= 4 else \
            ("string", "integer", "boolean", "null", "number", "array", "object")
        kind = self.rng.choice(kinds)
        if kind == "array":
            return [self._free([], depth + 1) for _ in range(self.rng.randint(0, 2))]
        if kind == "object":
            return {self.rng.choice(FREE_KEYS): self._free([], depth + 1) for _ in range(self.rng.randint(0, 2))}
        return getattr(self, f"_{kind}")([], depth)


def draw_bodies(node: dict, resolver: Any, is_valid: Callable[[Any], bool], seed: int, pattern_seed: int,
                size: int, attempts: int) -> list[Any]:
    """Up to `size` distinct bodies of the schema `node` that pass `is_valid`, from at most `attempts` draws
    of a random.Random seeded by `seed` (the first draw: required properties only); strings of a pattern are
    drawn under `pattern_seed` (the run's: shared by its routes). Raises Unsupported."""
    generator = BodyGenerator(node, resolver, random.Random(seed), pattern_seed)
    bodies: dict[str, Any] = {}
    for attempt in range(attempts):
        if len(bodies) >= size:
            break
        body = generator.body(minimal=attempt == 0)
        text = json.dumps(body, sort_keys=True)
        if text not in bodies and is_valid(body):
            bodies[text] = body
    return list(bodies.values())
