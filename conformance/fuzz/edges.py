"""Edge values for positive bodies: very long strings, deep nesting, huge integers, long lists.

Each candidate keeps the body schema-valid (the caller checks); a server must answer them with 2xx or a
4xx, never a 5xx or an off-schema answer. Lengths and depths are few and fixed so shrinking lands on the
smallest one that still fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import format_path
from .positions import Position, allowed_types
from .steps import slot_of

LONG_LENGTHS = (300, 1100, 5000, 70_000)
DEPTHS = (10, 40, 120)
BIG_INTEGERS = (0, -1, 2**31, 2**53 + 1, 2**63 - 1)
LIST_LENGTHS = (100, 1000)
# Unknown keys: the API must ignore them (dxfuse and dx send undocumented ones).
UNKNOWN_KEYS = ({"fuzzUnknownKey": True}, {"fuzzUnknownKey": {"nested": [1, "x", None, {"deep": {}}]}})


@dataclass(frozen=True)
class Edge:
    kind: str
    path: tuple
    value: Any

    @property
    def label(self) -> str:
        size = len(self.value) if isinstance(self.value, str | list) else self.value
        if self.kind == "unknown":
            size = "ignored key"
        if self.kind == "deep":
            size = nesting_depth(self.value)
        return f"{self.kind} at {format_path(self.path)} ({size})"


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"d": value}
    return value


def nesting_depth(value: Any) -> int:
    depth = 0
    while isinstance(value, dict | list) and value:
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
        depth += 1
    return depth


def _free_form(position: Position, resolver: Any) -> bool:
    """An object node that constrains nothing inside (details, options): any JSON may nest in it."""
    node = position.node
    declared = node.get("type")
    declared = set(declared) if isinstance(declared, list) else {declared}
    return bool(declared & {"object", None}) and not any(
        k in node for k in ("properties", "additionalProperties", "patternProperties", "required", "$ref",
                            "allOf", "anyOf", "oneOf", "enum", "const", "items"))


def edge_candidates(found: list[Position], resolver: Any) -> list[Edge]:
    """Every edge value that could replace a position of the body, deduplicated, in a stable order."""
    edges: dict[tuple, Edge] = {}
    for position in found:
        if not position.path and isinstance(position.value, dict) and "properties" in position.node:
            for extra in UNKNOWN_KEYS:
                for key, value in extra.items():
                    if key not in position.value:
                        edges.setdefault(("unknown", (key,), repr(value)), Edge("unknown", (key,), value))
        value, path = position.value, position.path
        types = allowed_types(position.node, position.resolver)
        if types == {"string"} and (not position.present or isinstance(value, str) and slot_of(value) is None):
            for n in LONG_LENGTHS:
                edges.setdefault(("long", path, n), Edge("long", path, ("fuzz-" + "x" * n)[:n]))
        if types == {"integer"} and position.present and isinstance(value, int):
            for n in BIG_INTEGERS:
                edges.setdefault(("int", path, n), Edge("int", path, n))
        if _free_form(position, resolver):
            for depth in DEPTHS:
                edges.setdefault(("deep", path, depth), Edge("deep", path, nested(depth)))
        if position.present and isinstance(value, list) and value and isinstance(value[0], str) \
                and slot_of(value[0]) is None:
            for n in LIST_LENGTHS:
                edges.setdefault(("many", path, n), Edge("many", path, [f"{value[0]}{i}" for i in range(n)]))
    return list(edges.values())
