"""The coverage map: which routes a run exercised, and which input and output fields, against schemas/.

A field is a top-level key of a request body (input) or of a successful JSON answer (output), as recorded in
results.json's exchanges; the fields a route declares are its schema's top-level properties.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..spec.schemas import declared_properties


# Keywords under which a schema may declare more top-level properties of the same object.
def _object_keys(text: Any) -> set[str] | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:   # not JSON, or a body results.json cut short
        return None
    return set(value) if isinstance(value, dict) else None


@dataclass
class RouteCoverage:
    """One route: how often it was called, the fields it declares (None: no schema) and the fields seen."""

    route: str
    profile: str
    exchanges: int = 0
    input_declared: set[str] | None = None
    output_declared: set[str] | None = None
    input_seen: set[str] = field(default_factory=set)
    output_seen: set[str] = field(default_factory=set)

    @property
    def input_unused(self) -> list[str]:
        return sorted((self.input_declared or set()) - self.input_seen)

    @property
    def output_unseen(self) -> list[str]:
        return sorted((self.output_declared or set()) - self.output_seen)

    @property
    def input_undeclared(self) -> list[str]:
        """Keys sent that the schema does not declare (cases that check unknown keys are ignored)."""
        return sorted(self.input_seen - self.input_declared) if self.input_declared is not None else []


def coverage_map(results: Iterable[Mapping[str, Any]], spec: Any) -> dict[str, RouteCoverage]:
    """RouteCoverage of every route of the registry, in registry order, from the case results' exchanges."""
    table = {route.route: RouteCoverage(route.route, route.profile,
                                        input_declared=declared_properties(spec, route.route, "input"),
                                        output_declared=declared_properties(spec, route.route, "output"))
             for route in spec.routes}
    for result in results:
        for exchange in result.get("exchanges") or []:
            entry = table.get(exchange.get("route") or "")
            if entry is None:
                continue
            entry.exchanges += 1
            entry.input_seen |= _object_keys((exchange.get("request") or {}).get("body")) or set()
            response = exchange.get("response") or {}
            if 200 <= int(response.get("status") or 0) < 300:
                entry.output_seen |= _object_keys(response.get("body")) or set()
    return table


@dataclass(frozen=True)
class CoverageTotals:
    routes: int
    routes_exercised: int
    input_declared: int
    input_seen: int
    output_declared: int
    output_seen: int


def totals(table: Mapping[str, RouteCoverage]) -> CoverageTotals:
    entries = list(table.values())
    return CoverageTotals(
        routes=len(entries), routes_exercised=sum(1 for e in entries if e.exchanges),
        input_declared=sum(len(e.input_declared or ()) for e in entries),
        input_seen=sum(len((e.input_declared or set()) & e.input_seen) for e in entries),
        output_declared=sum(len(e.output_declared or ()) for e in entries),
        output_seen=sum(len((e.output_declared or set()) & e.output_seen) for e in entries))
