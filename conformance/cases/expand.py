"""`for_each`: one case expanded into one item per matching route of schemas/routes.json, with its values."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from ..resources import schemas_dir
from ..spec.routes import read_registry, select_routes
from .model import CaseSpec

# A well-formed ID in the strict alphabet (0-9 and BFGJKPQVXYZbfgjkpqvxyz) that no server has issued:
# servers generate random IDs, so this one cannot exist in practice.
ABSENT_ID = "B" + "0" * 22 + "Q"
FOR_EACH_NAMES = frozenset({"route", "path", "subject", "class", "method", "profile"})


@cache
def registry_routes() -> tuple[dict[str, Any], ...]:
    """The routes of the shipped schemas/routes.json, in registry order."""
    return tuple(read_registry(schemas_dir() / "routes.json")["routes"])


def route_values(route: Mapping[str, Any]) -> dict[str, str]:
    """The template values of one route: {route}, {path}, {subject}, {class}, {method}, {profile}."""
    key = route["route"]
    cls = route.get("class") or ""
    if route["subject_kind"] == "instance":
        subject = f"{cls}-{ABSENT_ID}"
        path = f"/{subject}/{route['method']}"
    else:
        path = key
        subject = key.split("/")[1]
    return {"route": key, "path": path, "subject": subject, "class": cls, "method": route["method"],
            "profile": route["profile"]}


def expand(case: CaseSpec, filters: Mapping[str, Any],
           routes: Iterable[Mapping[str, Any]] | None = None,
           schema_routes: Mapping[str, set[str]] | None = None) -> list[CaseSpec]:
    """One CaseSpec per selected route: id `<id>[<route>]`, the route's profile, its template values."""
    items = []
    for route in select_routes(filters, registry_routes() if routes is None else routes, schema_routes):
        values = route_values(route)
        item_id = f"{case.id}[{values['route']}]"
        items.append(dataclasses.replace(
            case, uid=f"{case.uid}[{values['route']}]", id=item_id, profile=route["profile"],
            routes=(values["route"],), values={**case.values, **values}))
    return items


@cache
def shipped_schema_routes() -> dict[str, set[str]]:
    """Route keys whose input / output schema exists in the shipped schemas/methods (for the has_* filters)."""
    import json

    found: dict[str, set[str]] = {"input": set(), "output": set()}
    methods = schemas_dir() / "methods"
    for path in methods.glob("*/*.json"):
        defs = json.loads(path.read_text(encoding="utf-8")).get("$defs") or {}
        key = f"/{path.parent.name}/{path.stem}"
        for direction in found:
            if direction in defs:
                found[direction].add(key)
    return found
