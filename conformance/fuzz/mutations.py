"""Negative bodies: one documented constraint broken (type, required, pattern, enum, or not JSON at all).

Unknown keys are not invalid (the API ignores them), and neither are violations of length or range limits
the docs leave vague: a mutation only counts when the schema's own validator rejects the result. An
explicit null for an optional key is not used either: the docs never say whether null equals absence, and
the API takes null as "unset" in several places (update's databaseResultsRestricted, decreasePermissions,
resolveDataObjects' folder), so a server that reads null as absent breaks no documented rule."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..model import format_path
from .positions import Position, allowed_types

# A value of each JSON type, small and printable, for the "wrong type" mutation; the likeliest client
# mistake first (a bare string where a list or a number belongs).
TYPE_SAMPLES: dict[str, Any] = {"string": "fuzz", "integer": 7, "number": 1.5, "boolean": True, "null": None,
                                "array": ["fuzz"], "object": {"fuzz": 1}}
PATTERN_BREAKERS = ("", "not-an-id", "fuzz\u0001", "project-0", "/")
NOT_IN_ENUM = "NOT-A-DOCUMENTED-VALUE"
DELETE: Any = object()
# The order of a place's candidates, likeliest client mistake first.
KIND_ORDER = {"root": 0, "type": 0, "pattern": 1, "enum": 1, "required": 2, "json": 3}
MALFORMED_JSON = '{"fuzz": '


@dataclass(frozen=True)
class Mutation:
    kind: str          # type | required | pattern | enum | root | json
    path: tuple
    value: Any         # the replacement, DELETE, or the raw text for `json`

    @property
    def label(self) -> str:
        where = format_path(self.path)
        if self.kind == "required":
            return f"required {where} removed"
        if self.kind == "json":
            return "body is not JSON"
        return f"{self.kind} at {where}: {self.value!r}"[:200]


def mutation_candidates(found: list[Position], resolver: Any) -> list[Mutation]:
    """Every single-constraint mutation of the body the walk found, deduplicated, in a stable order."""
    out: dict[tuple, Mutation] = {}

    def add(m: Mutation) -> None:
        out.setdefault((m.kind, m.path, repr(m.value)), m)

    for position in found:
        node, path, value = position.node, position.path, position.value
        types = allowed_types(node, position.resolver)
        if types is not None and "type" in node:
            for name, sample in TYPE_SAMPLES.items():
                if name not in types and (name != "null" or not path):
                    add(Mutation("root" if not path else "type", path, sample))
        if not position.present:
            continue
        if isinstance(value, dict):
            for key in node.get("required", ()):
                if key in value:
                    add(Mutation("required", path + (key,), DELETE))
        if isinstance(value, str) and isinstance(node.get("pattern"), str):
            for breaker in PATTERN_BREAKERS:
                if not re.search(node["pattern"], breaker):
                    add(Mutation("pattern", path, breaker))
                    break
        if isinstance(node.get("enum"), list) and NOT_IN_ENUM not in node["enum"]:
            add(Mutation("enum", path, NOT_IN_ENUM))
    add(Mutation("json", (), MALFORMED_JSON))
    # A value of the wrong type first at each place, a required key's removal after: the walk meets a key's
    # removal (on its parent) before the key's own type, and the first candidate of a place is the one drawn
    # most (strategies.draw_at_one_place). The order is otherwise the walk's.
    return sorted(out.values(), key=lambda m: KIND_ORDER.get(m.kind, len(KIND_ORDER)))
